import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

/// Dataset versions on every engine: pinned reads never change, diffs are exact.
@Suite struct VersionStoreTests {
    /// The wire JSON of every item of the dataset at `version`, read a page at a time.
    static func wireJSON(_ store: any Store, _ version: VersionPoint, pageSize: Int = 37) async throws -> [[UInt8]] {
        var items: [[UInt8]] = []
        var start = 0
        while start < version.count {
            for item in try await store.storedItems(datasetID: version.datasetID, range: start..<(start + pageSize), at: version) {
                var out = JSONOutput()
                out.item(item)
                items.append(out.bytes)
            }
            start += pageSize
        }
        return items
    }

    /// FNV-1a over the items' bytes, one newline after each: the stream's checksum.
    static func checksum(_ items: [[UInt8]]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for item in items {
            for byte in item + [10] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        return hash
    }

    static func current(_ store: any Store, _ datasetID: Int64) async throws -> VersionPoint {
        let dataset = try #require(try await store.dataset(id: datasetID))
        return try #require(try await store.versionPoint(datasetID: datasetID, version: dataset.version))
    }

    /// One random write: add an instance, delete one, rename a label or append a file.
    static func edit(_ store: any Store, _ dataset: Dataset, _ rng: inout SplitMix64, step: Int) async throws {
        let count = try #require(try await store.dataset(id: dataset.id)).count
        let position = Int(rng.next() % UInt64(count))
        let item = try #require(try await store.storedItem(datasetID: dataset.id, position: position))
        let labels = try await store.labels(projectID: dataset.projectID)
        let roll = rng.nextDouble()
        if roll < 0.45 || (roll < 0.9 && item.instances.isEmpty) {
            let x = Double(rng.next() % 500)
            _ = try await store.addInstance(
                Instance(
                    fileID: item.file.id, labelID: rng.pick(labels).id, kind: .box,
                    bbox: BoundingBox(xMin: x, yMin: x, xMax: x + 10, yMax: x + 20)))
        } else if roll < 0.9 {
            try await store.deleteInstance(id: rng.pick(item.instances).id)
        } else if roll < 0.97 {
            try await store.renameLabel(id: rng.pick(labels).id, to: "renamed-\(step)")
        } else {
            _ = try await store.performImport(projectID: dataset.projectID, datasetName: dataset.name) { writer in
                let file = try writer.insertFile(NewFile(type: .image, name: "added-\(step).png", media: Media(width: 4, height: 4)))
                try writer.append(fileID: file)
                try writer.insertInstance(
                    NewInstance(fileID: file, labelID: labels[0].id, kind: .box, bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 1, yMax: 1)))
            }
        }
    }

    /// 10,000 edits on SQLite; 2,000 on PostgreSQL, whose statements cost a debug build's
    /// client about a millisecond each (PostgresNIO unoptimised), not the property under test.
    @Test(arguments: StoreEngine.available)
    func aPinnedVersionReadsTheSameBytesWhileAWriterEdits(engine: StoreEngine) async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryStore(engine) { store, _ in
                let dataset = try await store.importGenerated(files: 300, instancesPerFile: 4, labels: 8, in: directory)
                let snapshot = try await store.createSnapshot(datasetID: dataset.id, name: "v1")
                let pinned = try #require(try await store.versionPoint(datasetID: dataset.id, version: snapshot.version))
                let before = Self.checksum(try await Self.wireJSON(store, pinned))
                let live = try await Self.current(store, dataset.id)
                #expect(before == Self.checksum(try await Self.wireJSON(store, live)))
                let edits = engine == .sqlite ? 10_000 : 2_000
                let reads = try await withThrowingTaskGroup(of: Int.self) { group in
                    let done = StopFlag()
                    group.addTask {
                        defer { done.set() }
                        var rng = SplitMix64(seed: 7)
                        for step in 0..<edits { try await Self.edit(store, dataset, &rng, step: step) }
                        return 0
                    }
                    group.addTask {
                        // The reader streams the pinned version over and over while the edits go on.
                        var reads = 0
                        repeat {
                            let sum = Self.checksum(try await Self.wireJSON(store, pinned))
                            #expect(sum == before)
                            reads += 1
                        } while !done.isSet
                        return reads
                    }
                    return try await group.reduce(0, +)
                }
                #expect(reads >= 1)
                let after = try #require(try await store.versionPoint(datasetID: dataset.id, version: snapshot.version))
                #expect(after == pinned)
                #expect(Self.checksum(try await Self.wireJSON(store, after)) == before)
                // The dataset itself did change.
                let now = try await Self.current(store, dataset.id)
                #expect(now.version > pinned.version)
                #expect(Self.checksum(try await Self.wireJSON(store, now)) != before)
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aDiffListsExactlyWhatDiffersBetweenTwoVersions(engine: StoreEngine) async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryStore(engine) { store, _ in
                let dataset = try await store.importGenerated(files: 60, instancesPerFile: 3, labels: 5, in: directory)
                let first = try await Self.current(store, dataset.id)
                var rng = SplitMix64(seed: 11)
                for step in 0..<150 { try await Self.edit(store, dataset, &rng, step: step) }
                let second = try await Self.current(store, dataset.id)
                let diff = try await store.differences(from: first, to: second, positions: 0..<second.count)
                // The model: compare the two versions' items.
                let a = try await store.storedItems(datasetID: dataset.id, range: 0..<first.count, at: first)
                let b = try await store.storedItems(datasetID: dataset.id, range: 0..<second.count, at: second)
                var expected: [VersionDiffEntry] = []
                for position in 0..<second.count {
                    let new = b[position]
                    guard position < a.count else {
                        expected.append(VersionDiffEntry(kind: .fileAdded, position: position, fileID: new.file.id))
                        for i in new.instances {
                            expected.append(VersionDiffEntry(kind: .instanceAdded, position: position, fileID: new.file.id, instanceID: i.id))
                        }
                        continue
                    }
                    let old = a[position]
                    var oldJSON = JSONOutput(), newJSON = JSONOutput()
                    oldJSON.item(old)
                    newJSON.item(new)
                    if oldJSON.bytes != newJSON.bytes {
                        expected.append(VersionDiffEntry(kind: .fileChanged, position: position, fileID: new.file.id))
                    }
                    let oldIDs = Set(old.instances.map(\.id)), newIDs = Set(new.instances.map(\.id))
                    for id in oldIDs.union(newIDs).sorted() where oldIDs.contains(id) != newIDs.contains(id) {
                        expected.append(
                            VersionDiffEntry(
                                kind: newIDs.contains(id) ? .instanceAdded : .instanceRemoved, position: position,
                                fileID: new.file.id, instanceID: id))
                    }
                }
                #expect(!expected.isEmpty)
                #expect(diff == expected)
                // Pages of a diff add up to the whole.
                var paged: [VersionDiffEntry] = []
                for start in stride(from: 0, to: second.count, by: 7) {
                    paged += try await store.differences(from: first, to: second, positions: start..<(start + 7))
                }
                #expect(paged == diff)
                // And the other way round, everything added is removed.
                let back = try await store.differences(from: second, to: first, positions: 0..<second.count)
                #expect(back.filter { $0.kind == .instanceRemoved }.count == diff.filter { $0.kind == .instanceAdded }.count)
            }
        }
    }

    @Test(arguments: StoreEngine.available) func snapshotNamesAreUniquePerDatasetAndNotNumbers(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let v1 = try await store.createSnapshot(datasetID: dataset.id, name: "v1")
            #expect(v1.version == dataset.version && v1.count == dataset.count)
            await #expect(throws: StoreError.conflict("dataset \(dataset.id) already has a snapshot named 'v1'")) {
                try await store.createSnapshot(datasetID: dataset.id, name: "v1")
            }
            await #expect(throws: StoreError.self) { try await store.createSnapshot(datasetID: dataset.id, name: "12") }
            #expect(try await store.snapshots(datasetID: dataset.id) == [v1])
            #expect(try await store.snapshot(datasetID: dataset.id, name: "v1") == v1)
        }
    }
}

/// A flag one task sets and another polls.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

import Synchronization
