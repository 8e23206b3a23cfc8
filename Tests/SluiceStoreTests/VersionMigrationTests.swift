import Foundation
import GRDB
import SluiceModel
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// `v4-versions` on a store written before it: the version it was at stays readable.
@Suite struct VersionMigrationTests {
    @Test func anUpgradedStoreReadsItsVersionAsBeforeAndKeepsItAfterEdits() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("sluice.sqlite").path
            // The schema of the release before versions, with one dataset at version 3.
            let old = try DatabaseQueue(path: path)
            try Migrations.migrator.migrate(old, upTo: "v2-changes")
            try await old.write { db in
                try db.execute(sql: """
                    INSERT INTO projects (id, name, created_at) VALUES ('p', 'p', 0);
                    INSERT INTO labels (id, project_id, name, color) VALUES (1, 'p', 'cat', '#808080');
                    INSERT INTO datasets (id, project_id, name, file_count, version, created_at) VALUES (1, 'p', 'D', 2, 3, 0);
                    INSERT INTO files (id, project_id, type, name, created_at, updated_at) VALUES (1, 'p', 'image', 'a.jpg', 0, 0), (2, 'p', 'image', 'b.jpg', 0, 0);
                    INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (1, 0, 1), (1, 1, 2);
                    INSERT INTO instances (id, file_id, label_id, kind, x_min, y_min, x_max, y_max, created_at, updated_at, deleted)
                    VALUES (1, 1, 1, 'box', 0, 0, 1, 1, 0, 0, 0), (2, 1, 1, 'box', 0, 0, 2, 2, 0, 0, 1), (3, 2, 1, 'box', 0, 0, 3, 3, 0, 0, 0);
                    """)
            }
            try old.close()
            let store = try SQLiteStore(
                databasePath: path, media: MediaStore(root: directory.appendingPathComponent("media")))
            let three = try #require(try await store.versionPoint(datasetID: 1, version: 3))
            #expect(three.count == 2)
            func json(_ items: [StoredItem]) -> [[UInt8]] {
                items.map { item in
                    var out = JSONOutput()
                    out.item(item)
                    return out.bytes
                }
            }
            let now = try await store.storedItems(datasetID: 1, range: 0..<2)
            #expect(now.map { $0.instances.map(\.id) } == [[1], [3]])
            #expect(json(try await store.storedItems(datasetID: 1, range: 0..<2, at: three)) == json(now))
            // Edits after the upgrade leave version 3 as it was.
            try await store.deleteInstance(id: 1)
            try await store.renameLabel(id: 1, to: "feline")
            #expect(json(try await store.storedItems(datasetID: 1, range: 0..<2, at: three)) == json(now))
            #expect(try await store.storedItems(datasetID: 1, range: 0..<2).map { $0.instances.map(\.id) } == [[], [3]])
            #expect(try await store.labels(projectID: "p", at: three).map(\.name) == ["cat"])
        }
    }
}
