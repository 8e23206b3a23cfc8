import Foundation
import GRDB
import SluiceModel
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// `StoreBackup` over real temporary stores: what a backup holds, that it is one commit of a
/// store being written, and that damaged backups and occupied directories are refused.
@Suite struct StoreBackupTests {
    /// Every dataset's items (wire JSON) at its current version, by dataset id.
    static func contents(_ store: SQLiteStore) async throws -> [Int64: [[UInt8]]] {
        var contents: [Int64: [[UInt8]]] = [:]
        for project in try await store.projects() {
            for dataset in try await store.datasets(projectID: project.id) {
                contents[dataset.id] = try await VersionStoreTests.wireJSON(
                    store, try await VersionStoreTests.current(store, dataset.id))
            }
        }
        return contents
    }

    /// The blobs under a media root, by name.
    static func blobs(under root: URL) throws -> Set<String> {
        let names = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        return Set(names.map { ($0 as NSString).lastPathComponent }.filter(MediaStore.isSHA256))
    }

    /// What is left beside `target` from a staging directory.
    static func leftovers(beside target: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
            .filter { $0.hasPrefix(target.lastPathComponent + ".partial-") }
    }

    @Test func aBackupHoldsTheDatabaseAndTheMediaItsFilesReference() async throws {
        try await withTemporaryDirectory { scratch in
            try await withTemporaryStore { store, directory in
                try await store.importSample()
                let loose = scratch.appendingPathComponent("loose.txt")
                try Data("bytes no file references".utf8).write(to: loose)
                let unreferenced = try store.media.put(fileAt: loose.path).sha256
                let referenced = Set(
                    try await store.pool.read { db in
                        try String.fetchAll(db, sql: "SELECT sha256 FROM files WHERE sha256 IS NOT NULL")
                    })

                let out = scratch.appendingPathComponent("backup")
                let summary = try StoreBackup.make(of: directory, into: out)
                #expect(summary.files == 9 && summary.media == referenced.count && summary.media > 0)
                #expect(try Self.blobs(under: out.appendingPathComponent("media")) == referenced)
                #expect(!referenced.contains(unreferenced))
                #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["media", "sluice.sqlite"])
                #expect(try Self.leftovers(beside: out).isEmpty)

                let restoredDirectory = scratch.appendingPathComponent("restored")
                let restoredSummary = try StoreBackup(directory: out).restore(into: restoredDirectory, transfer: .copy)
                #expect(restoredSummary.media == summary.media && restoredSummary.linked == 0)
                #expect(restoredSummary.mediaBytes == summary.mediaBytes && restoredSummary.clock == summary.clock)
                let restored = try SQLiteStore(directory: restoredDirectory)
                #expect(try await Self.contents(restored) == Self.contents(store))
            }
        }
    }

    @Test func aBackupTakenDuringWritesIsTheStoreAsOfOneCommit() async throws {
        try await withTemporaryDirectory { scratch in
            try await withTemporaryStore { store, directory in
                let dataset = try await store.importSample()
                var rng = SplitMix64(seed: 3)
                for step in 0..<20 { try await VersionStoreTests.edit(store, dataset, &rng, step: step) }
                let out = scratch.appendingPathComponent("backup")
                let summary = try await withThrowingTaskGroup(of: BackupSummary?.self) { group in
                    group.addTask {
                        var rng = SplitMix64(seed: 4)
                        for step in 20..<400 { try await VersionStoreTests.edit(store, dataset, &rng, step: step) }
                        return nil
                    }
                    group.addTask { try StoreBackup.make(of: directory, into: out) }
                    return try await group.reduce(nil) { $0 ?? $1 }
                }
                let backup = try #require(summary)
                let restoredDirectory = scratch.appendingPathComponent("restored")
                _ = try StoreBackup(directory: out).restore(into: restoredDirectory)
                let restored = try SQLiteStore(directory: restoredDirectory)
                // The restored dataset at its version is the original read pinned at that version.
                let copy = try await VersionStoreTests.current(restored, dataset.id)
                let original = try #require(try await store.versionPoint(datasetID: dataset.id, version: copy.version))
                #expect(original.clock <= backup.clock)
                #expect(
                    try await VersionStoreTests.wireJSON(restored, copy)
                        == VersionStoreTests.wireJSON(store, original))
                let now = try #require(try await store.dataset(id: dataset.id))
                #expect(copy.version <= now.version)
            }
        }
    }

    @Test func anOccupiedDestinationIsRefusedByName() async throws {
        try await withTemporaryDirectory { scratch in
            try await withTemporaryStore { store, directory in
                try await store.importSample()
                let out = scratch.appendingPathComponent("occupied")
                try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                try Data("x".utf8).write(to: out.appendingPathComponent("note.txt"))
                #expect(throws: BackupError.notEmpty(path: out.path)) { try StoreBackup.make(of: directory, into: out) }
                #expect(try Self.leftovers(beside: out).isEmpty)

                let empty = scratch.appendingPathComponent("empty")
                try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
                _ = try StoreBackup.make(of: directory, into: empty)
                #expect(throws: BackupError.notEmpty(path: out.path)) {
                    try StoreBackup(directory: empty).restore(into: out)
                }
                #expect(throws: BackupError.notEmpty(path: directory.path)) {
                    try StoreBackup(directory: empty).restore(into: directory)
                }
                #expect(throws: BackupError.noDatabase(path: scratch.appendingPathComponent("none/sluice.sqlite").path)) {
                    try StoreBackup.make(of: scratch.appendingPathComponent("none"), into: scratch.appendingPathComponent("b"))
                }
            }
        }
    }

    @Test func aCorruptBlobInTheStoreFailsTheBackupNamingIt() async throws {
        try await withTemporaryDirectory { scratch in
            try await withTemporaryStore { store, directory in
                try await store.importSample()
                let sha256 = try #require(try await store.items(datasetID: 1, range: 0..<1).first?.file.media.sha256)
                let path = store.media.path(for: sha256)
                try Self.flipLastByte(of: path)
                let out = scratch.appendingPathComponent("backup")
                for transfer in [MediaTransfer.linkOrCopy, .copy] {
                    let error = #expect(throws: BackupError.self) {
                        try StoreBackup.make(of: directory, into: out, transfer: transfer)
                    }
                    guard case .corruptMedia(let named, _) = error else { Issue.record("\(String(describing: error))"); return }
                    #expect(named == path && "\(error!)".contains(sha256))
                    #expect(!FileManager.default.fileExists(atPath: out.path))
                    #expect(try Self.leftovers(beside: out).isEmpty)
                }
            }
        }
    }

    @Test func restoreRefusesAnAlteredOrMissingBlobAndADamagedDatabase() async throws {
        try await withTemporaryDirectory { scratch in
            try await withTemporaryStore { store, directory in
                try await store.importGenerated(files: 400, instancesPerFile: 6, labels: 8, in: scratch)
                try await store.importSample()
                let out = scratch.appendingPathComponent("backup")
                _ = try StoreBackup.make(of: directory, into: out, transfer: .copy)
                let backup = StoreBackup(directory: out)
                try backup.verify()
                let sha256 = try #require(try await store.items(datasetID: 2, range: 3..<4).first?.file.media.sha256)
                let blob = out.appendingPathComponent("media").appendingPathComponent(MediaStore.relativePath(for: sha256))
                let target = scratch.appendingPathComponent("restored")

                try Self.flipLastByte(of: blob.path)
                let corrupt = #expect(throws: BackupError.self) { try backup.restore(into: target) }
                guard case .corruptMedia(let named, _) = corrupt else { Issue.record("\(String(describing: corrupt))"); return }
                #expect(named == blob.path)
                #expect(!FileManager.default.fileExists(atPath: target.path))
                #expect(try Self.leftovers(beside: target).isEmpty)

                try FileManager.default.removeItem(at: blob)
                #expect(throws: BackupError.missingMedia(sha256: sha256, path: blob.path)) { try backup.verify() }

                // Garbage over pages in the middle of the file: rows and indexes, not the schema.
                let database = out.appendingPathComponent("sluice.sqlite")
                let handle = try FileHandle(forWritingTo: database)
                try handle.seek(toOffset: (try handle.seekToEnd()) / 2)
                try handle.write(contentsOf: Data(repeating: 0xA5, count: 3 * 4096))
                try handle.close()
                let damaged = #expect(throws: BackupError.self) { try backup.restore(into: target) }
                guard case .damagedDatabase(let path, let problems) = damaged else {
                    Issue.record("\(String(describing: damaged))")
                    return
                }
                #expect(path == database.path && !problems.isEmpty)
                #expect(!FileManager.default.fileExists(atPath: target.path))
            }
        }
    }

    /// A backup is a stranger's input to `restore`: a media reference that is no SHA-256 (a
    /// path that would lead out of `media/`) is refused, naming the file, before anything is read.
    @Test func restoreRefusesAReferenceThatIsNoHash() async throws {
        try await withTemporaryDirectory { scratch in
            try await withTemporaryStore { store, directory in
                try await store.importSample()
                let out = scratch.appendingPathComponent("backup")
                _ = try StoreBackup.make(of: directory, into: out, transfer: .copy)
                let queue = try DatabaseQueue(path: out.appendingPathComponent("sluice.sqlite").path)
                let fileID = try await queue.write { db in
                    let id = try Int64.fetchOne(db, sql: "SELECT min(id) FROM files WHERE sha256 IS NOT NULL")!
                    try db.execute(sql: "UPDATE files SET sha256 = '../../../../etc/passwd' WHERE id = ?", arguments: [id])
                    return id
                }
                try queue.close()
                let target = scratch.appendingPathComponent("restored")
                #expect(throws: BackupError.malformedReference(fileID: fileID, value: "../../../../etc/passwd")) {
                    try StoreBackup(directory: out).restore(into: target)
                }
                #expect(!FileManager.default.fileExists(atPath: target.path))
            }
        }
    }

    static func flipLastByte(of path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 1] ^= 0xFF
        // A new inode, as a bad write would give: a hard link elsewhere keeps the old bytes.
        try FileManager.default.removeItem(atPath: path)
        try bytes.write(to: URL(fileURLWithPath: path))
    }
}
