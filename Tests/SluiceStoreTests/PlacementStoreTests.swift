import Foundation
import GRDB
import SluiceModel
import SluiceQuery
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// Files removed from datasets, copied and moved between them (docs/writes.md): positions
/// stay, every read path says what a removed position reads as, and old versions keep
/// reading what they read.
@Suite struct PlacementStoreTests {
    func json(_ items: [StoredItem]) -> [[UInt8]] {
        items.map { item in
            var out = JSONOutput()
            out.item(item)
            return out.bytes
        }
    }

    @Test(arguments: StoreEngine.available) func aRemovedFileKeepsItsPositionAndEveryReadSaysSo(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let before = try await store.versionPoint(datasetID: dataset.id, version: dataset.version)!
            let beforeItems = try await store.storedItems(datasetID: dataset.id, range: 0..<9, at: before)
            let victim = beforeItems[3].file.id
            let cursor = try await store.changeCursor(datasetID: dataset.id)

            let after = try await store.removeFiles(datasetID: dataset.id, fileIDs: [victim])
            #expect(after.count == 9 && after.removedCount == 1 && after.version == dataset.version + 1)
            let now = try await store.storedItems(datasetID: dataset.id, range: 0..<9)
            #expect(now.map(\.position) == Array(0..<9), "positions never move")
            #expect(now.map(\.isRemoved) == (0..<9).map { $0 == 3 })
            #expect(now[4].file.id == beforeItems[4].file.id)
            // The version before reads the file, byte for byte as it did.
            #expect(json(try await store.storedItems(datasetID: dataset.id, range: 0..<9, at: before)) == json(beforeItems))
            let current = try await store.versionPoint(datasetID: dataset.id, version: after.version)!
            #expect(current.removedCount == 1 && before.removedCount == 0)
            // Slices: never the removed position now, still there at the version before.
            let labels = try await store.labels(projectID: "coco-dataset")
            let query = try QueryParser.parse("labels.person >= 0").checked(
                against: QuerySchema(labels: labels, attributeGroups: []))
            #expect(try await store.matchingPositions(datasetID: dataset.id, query: query) == [0, 1, 2, 4, 5, 6, 7, 8])
            #expect(
                try await store.matchingPositions(datasetID: dataset.id, datasetName: dataset.name, query: query, at: current)
                    == [0, 1, 2, 4, 5, 6, 7, 8])
            #expect(
                try await store.matchingPositions(datasetID: dataset.id, datasetName: dataset.name, query: query, at: before)
                    == Array(0..<9))
            // The change feed, the diff.
            let page = try await store.changes(datasetID: dataset.id, after: cursor, limit: 10)
            #expect(page.changes.map(\.kind) == [.removed] && page.changes.map(\.positions) == [3..<4])
            let diff = try await store.differences(from: before, to: current, positions: 0..<9)
            #expect(diff.first == VersionDiffEntry(kind: .fileRemoved, position: 3, fileID: victim))
            #expect(Set(diff.compactMap(\.instanceID)) == Set(beforeItems[3].instances.map(\.id)))
            // Writes to the file no longer touch this dataset.
            let versionNow = try await store.dataset(id: dataset.id)!.version
            _ = try await store.editInstances(fileID: victim, .replaceAll([]), expectedRevision: nil, createLabels: false)
            #expect(try await store.dataset(id: dataset.id)!.version == versionNow)
            // Removing it again is refused, naming the field.
            await #expect(throws: StoreError.invalidField(
                FieldError(path: "file_ids[0]", message: "dataset \(dataset.id) does not hold file \(victim)"))
            ) { _ = try await store.removeFiles(datasetID: dataset.id, fileIDs: [victim]) }
        }
    }

    @Test(arguments: StoreEngine.available) func moveAndCopyShareTheFileAndAFileMayComeBack(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let train = try await store.importSample()
            let val = try await store.ensureDataset(projectID: "coco-dataset", name: "val")
            let files = try await store.items(datasetID: train.id, range: 0..<9).map(\.file.id)
            let moved = try await store.copyFiles([files[2], files[5]], into: val.id, movingFrom: train.id)
            #expect(moved.map(\.position) == [0, 1] && moved.map(\.file.id) == [files[2], files[5]])
            #expect(try await store.dataset(id: train.id)!.removedCount == 2)
            #expect(try await store.placements(fileID: files[2]) == [FilePlacement(datasetID: val.id, position: 0)])
            // One file, one annotation: an edit shows in every dataset that holds it.
            _ = try await store.editInstances(fileID: files[2], .replaceAll([]), expectedRevision: nil, createLabels: false)
            #expect(try await store.items(datasetID: val.id, range: 0..<1)[0].instances.isEmpty)
            // Back to train: a new position there; the old one stays removed.
            let back = try await store.copyFiles([files[2]], into: train.id, movingFrom: val.id)
            #expect(back.map(\.position) == [9])
            let trainNow = try await store.storedItems(datasetID: train.id, range: 0..<10)
            #expect(trainNow[2].isRemoved && !trainNow[9].isRemoved && trainNow[9].file.id == files[2])
            // Copy keeps the source; a file held already is refused by field.
            _ = try await store.copyFiles([files[0]], into: val.id, movingFrom: nil)
            #expect(try await store.placements(fileID: files[0]).count == 2)
            await #expect(throws: StoreError.self) { _ = try await store.copyFiles([files[0]], into: val.id, movingFrom: nil) }
            await #expect(throws: StoreError.self) {
                _ = try await store.copyFiles([files[1], files[1]], into: val.id, movingFrom: nil)
            }
            #expect(try await store.dataset(id: val.id)!.count == 3, "refused copies wrote nothing")
        }
    }

    @Test(arguments: StoreEngine.available) func aFileThatCameBackReadsTheSameAtBothItsPositions(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let train = try await store.importSample()
            let val = try await store.ensureDataset(projectID: "coco-dataset", name: "val")
            let original = try await store.storedItems(datasetID: train.id, range: 0..<9)
            let file = try #require(original.first { $0.instances.count >= 2 }).file.id
            let instanceIDs = original.first { $0.file.id == file }!.instances.map(\.id)
            _ = try await store.copyFiles([file], into: val.id, movingFrom: train.id)
            _ = try await store.copyFiles([file], into: train.id, movingFrom: val.id)
            let now = try await store.storedItems(datasetID: train.id, range: 0..<10)
            let positions = now.filter { $0.file.id == file }
            #expect(positions.map(\.isRemoved) == [true, false])
            // Each position holds the file's instances once, in id order, read in one batch.
            for item in positions { #expect(item.instances.map(\.id) == instanceIDs) }
            let picked = try await store.storedItems(datasetID: train.id, positions: positions.map(\.position))
            for item in picked { #expect(item.instances.map(\.id) == instanceIDs) }
        }
    }

    @Test func theRemovalsMigrationKeepsTheChangeFeedAndItsSequence() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("sluice.sqlite").path
            let old = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(old, upTo: "v5-server-keys")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO projects (id, name, created_at) VALUES ('p', 'p', 0);
                    INSERT INTO datasets (id, project_id, name, file_count, version, created_at) VALUES (1, 'p', 'D', 1, 2, 0);
                    INSERT INTO files (id, project_id, type, name, created_at, updated_at) VALUES (1, 'p', 'image', 'a.jpg', 0, 0);
                    INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (1, 0, 1);
                    INSERT INTO changes (dataset_id, kind, first_position, end_position, at) VALUES (1, 'added', 0, 1, 0);
                    UPDATE sqlite_sequence SET seq = 40 WHERE name = 'changes';
                    """)
            }
            try old.close()
            let store = try SQLiteStore(databasePath: path, media: MediaStore(root: directory.appendingPathComponent("media")))
            let page = try await store.changes(datasetID: 1, after: 0, limit: 10)
            #expect(page.changes.map(\.seq) == [1] && page.changes.map(\.kind) == [.added])
            _ = try await store.removeFiles(datasetID: 1, fileIDs: [1])
            let next = try await store.changes(datasetID: 1, after: 1, limit: 10)
            #expect(next.changes.map(\.seq) == [41], "a seq handed out before the upgrade is never handed out again")
            #expect(try await store.versionPoint(datasetID: 1, version: 2)?.count == 1)
        }
    }
}
