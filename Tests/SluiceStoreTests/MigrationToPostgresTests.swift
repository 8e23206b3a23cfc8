import Foundation
import SluiceModel
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// `sluice migrate`: an embedded store copied into PostgreSQL reads the same there, history
/// and all, and goes on from where it was.
@Suite(.enabled(if: StoreEngine.available.contains(.postgres)))
struct MigrationToPostgresTests {
    @Test func everyStreamVersionKeyTagAndCursorArrivesAndWritesGoOn() async throws {
        try await withTemporaryStore { source, _ in
            // A store with history: a snapshot, then edits, a removal, a rename, a second dataset.
            let dataset = try await source.importSample()
            _ = try await source.createSnapshot(datasetID: dataset.id, name: "v1")
            let items = try await source.storedItems(datasetID: dataset.id, range: 0..<9)
            let labels = try await source.labels(projectID: "coco-dataset")
            _ = try await source.addInstance(
                Instance(
                    fileID: items[1].file.id, labelID: labels[0].id, kind: .box,
                    bbox: BoundingBox(xMin: 1, yMin: 2, xMax: 30, yMax: 40), attributes: ["note": "after v1"]))
            try await source.deleteInstance(id: try #require(items[2].instances.first).id)
            _ = try await source.removeFiles(datasetID: dataset.id, fileIDs: [items[4].file.id])
            try await source.renameLabel(id: labels[0].id, to: "human")
            let other = try await source.ensureDataset(projectID: "coco-dataset", name: "Picked")
            _ = try await source.copyFiles([items[0].file.id, items[3].file.id], into: other.id, movingFrom: nil)
            _ = try await source.addDatasetTags(datasetID: other.id, ["reviewed"])
            _ = try await source.createAttributeGroup(projectID: "coco-dataset", name: "note", kind: .text, options: [])
            let key = NewAPIKey.generate(projectID: "coco-dataset", role: .editor)
            try await source.insertAPIKey(key.stored)
            let cursor = try await source.changeCursor(datasetID: dataset.id)
            let feed = try await source.changes(datasetID: dataset.id, after: 0, limit: 1000)

            try await withTemporaryStore(.postgres) { store, _ in
                let target = try #require(store as? PostgresStore)
                let summary = try await StoreMigration.migrate(from: source, to: target) { progress in
                    #expect(progress.rows <= progress.totalRows)
                }
                // Default now and at v1, Picked now.
                #expect(summary.streamsVerified == 3)
                #expect(summary.rows["instances"] == 25 && summary.rows["files"] == 9)
                #expect(summary.media == Set(items.compactMap(\.file.media.sha256)).count)
                for sha256 in items.compactMap(\.file.media.sha256) { #expect(target.media.contains(sha256)) }

                let moved = try #require(try await target.dataset(projectID: "coco-dataset", name: "Default"))
                #expect(moved == (try await source.dataset(id: dataset.id)))
                #expect(moved.removedCount == 1)
                #expect(try await target.snapshots(datasetID: dataset.id).map(\.name) == ["v1"])
                #expect(try await target.changes(datasetID: dataset.id, after: 0, limit: 1000) == feed)
                #expect(try await target.changeCursor(datasetID: dataset.id) == cursor)
                #expect(try await target.apiKey(clientID: key.stored.clientID) == key.stored)
                #expect(try await target.datasetTags(datasetID: other.id) == ["reviewed"])
                #expect(try await target.attributeGroups(projectID: "coco-dataset").map(\.name) == ["note"])
                #expect(try await target.labels(projectID: "coco-dataset") == (try await source.labels(projectID: "coco-dataset")))
                for item in try await source.storedItems(datasetID: dataset.id, range: 0..<9) {
                    #expect(try await target.labelCounts(fileID: item.file.id) == (try await source.labelCounts(fileID: item.file.id)))
                }

                // Writes go on where the embedded store stopped: new ids, a later seq, a new version.
                let added = try await target.addInstance(
                    Instance(fileID: items[0].file.id, labelID: labels[0].id, kind: .box,
                             bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 5, yMax: 5)))
                let largest = try await source.items(datasetID: dataset.id, range: 0..<9).flatMap(\.instances).map(\.id).max()
                #expect(added.id > (largest ?? 0))
                #expect(try await target.changeCursor(datasetID: dataset.id) > cursor)

                // A second migration into the now full store is refused, and changes nothing.
                await #expect(throws: StoreError.self) {
                    _ = try await StoreMigration.migrate(from: source, to: target) { _ in }
                }
                #expect(try await target.storedItems(datasetID: dataset.id, range: 0..<9).flatMap(\.instances).count == 25)
            }
        }
    }
}
