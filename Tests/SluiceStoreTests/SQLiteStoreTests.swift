import Crypto
import Foundation
import GRDB
import SluiceModel
import SluiceTestSupport
import Testing

@testable import SluiceStore

@Suite struct SQLiteStoreTests {
    @Test func reopensWithDataAndWALMode() async throws {
        try await withTemporaryDirectory { directory in
            do {
                let store = try SQLiteStore(directory: directory)
                try await store.importSample()
            }
            let reopened = try SQLiteStore(directory: directory)
            #expect(try await reopened.dataset(projectID: "coco-dataset", name: "Default")?.count == 9)
            let mode = try await reopened.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
        }
    }

    @Test(arguments: StoreEngine.available) func ensureProjectAndDatasetAreIdempotent(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let a = try await store.ensureProject(Project(id: "p", name: "First"))
            let b = try await store.ensureProject(Project(id: "p", name: "Second"))
            #expect(a == b && b.name == "First")
            let d1 = try await store.ensureDataset(projectID: "p", name: "D")
            let d2 = try await store.ensureDataset(projectID: "p", name: "D")
            #expect(d1 == d2)
            await #expect(throws: StoreError.projectNotFound("nope")) {
                _ = try await store.ensureDataset(projectID: "nope", name: "D")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func rangesAreClippedAndOrdered(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            #expect(try await store.items(datasetID: dataset.id, range: 7..<100).map(\.position) == [7, 8])
            #expect(try await store.items(datasetID: dataset.id, range: 9..<12).isEmpty)
            #expect(try await store.storedItem(datasetID: dataset.id, position: 3)?.position == 3)
            let all = try await store.items(datasetID: dataset.id, range: 0..<9)
            #expect(all.map(\.position) == Array(0..<9))
            #expect(all.flatMap(\.instances).count == 24)
            for item in all {
                #expect(item.instances.allSatisfy { $0.fileID == item.file.id })
                #expect(item.instances.map(\.id) == item.instances.map(\.id).sorted())
            }
        }
    }

    @Test(arguments: StoreEngine.available) func labelCountsFollowEveryWrite(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let item = try await store.items(datasetID: dataset.id, range: 0..<1)[0]
            let person = try #require(item.instances.first?.labelID)
            let before = try await store.labelCounts(fileID: item.file.id)
            #expect(before == [LabelCount(fileID: item.file.id, labelID: person, count: item.instances.count)])

            let added = try await store.addInstance(
                Instance(fileID: item.file.id, labelID: person, kind: .box, bbox: BoundingBox(xMin: 1, yMin: 2, xMax: 3, yMax: 4)))
            #expect(added.label == "person" && added.id > 0)
            #expect(try await store.labelCounts(fileID: item.file.id).first?.count == item.instances.count + 1)

            for instance in item.instances + [added] {
                try await store.deleteInstance(id: instance.id)
            }
            #expect(try await store.labelCounts(fileID: item.file.id).isEmpty)
            #expect(try await store.items(datasetID: dataset.id, range: 0..<1)[0].instances.isEmpty)
            await #expect(throws: StoreError.instanceNotFound(added.id)) { try await store.deleteInstance(id: added.id) }
        }
    }

    @Test(arguments: StoreEngine.available) func writesAdvanceTheDatasetVersion(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            #expect(dataset.version == 3, "one version per import")
            let item = try await store.items(datasetID: dataset.id, range: 0..<1)[0]
            _ = try await store.addInstance(Instance(fileID: item.file.id, labelID: nil, kind: .global, bbox: nil))
            #expect(try await store.dataset(id: dataset.id)?.version == 4)
        }
    }

    @Test(arguments: StoreEngine.available) func everyInstanceKindRoundTrips(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            let shapes: [(InstanceKind, Geometry)] = [
                (.box, Geometry()),
                (.polygon, Geometry(polygon: [[0, 0, 10, 0, 10, 10], [1, 1, 2, 1, 2, 2]])),
                (.mask, Geometry(mask: RLEMask(height: 4, width: 2, counts: .runs([1, 3, 4])))),
                (.point, Geometry(points: [Point(x: 3, y: 4), Point(x: 5, y: 6)])),
                (.line, Geometry(line: [Point(x: 0, y: 0), Point(x: 9, y: 9.5)])),
                (.keypoints, Geometry(keypoints: [Keypoint(x: 1, y: 2, visibility: 2), Keypoint(x: 0, y: 0, visibility: 0)])),
                (.ellipse, Geometry(ellipse: Ellipse(centerX: 5, centerY: 5, radiusX: 2, radiusY: 1, angle: 90))),
                (.cuboid, Geometry(cuboid: Cuboid(
                    front: [Point(x: 0, y: 0), Point(x: 2, y: 0), Point(x: 2, y: 2), Point(x: 0, y: 2)],
                    back: [Point(x: 1, y: 1), Point(x: 3, y: 1), Point(x: 3, y: 3), Point(x: 1, y: 3)]))),
                (.global, Geometry()),
            ]
            for (kind, geometry) in shapes {
                let bbox: BoundingBox? = kind == .box || kind == .mask ? BoundingBox(xMin: 0, yMin: 0, xMax: 2, yMax: 4) : nil
                let added = try await store.addInstance(
                    Instance(fileID: file.id, labelID: nil, kind: kind, bbox: bbox, geometry: geometry,
                             attributes: ["occluded": true, "note": "a \"quoted\" ü"]))
                #expect(added.kind == kind)
                #expect(added.geometry == geometry)
                #expect(added.attributes == ["occluded": true, "note": "a \"quoted\" ü"])
                if kind == .global {
                    #expect(added.bbox == nil)
                } else {
                    #expect(added.bbox != nil, "\(kind) has indexed box columns")
                }
            }
            let ellipse = try #require(Geometry(ellipse: Ellipse(centerX: 5, centerY: 5, radiusX: 2, radiusY: 1, angle: 90)).bounds(for: .ellipse))
            #expect(abs(ellipse.xMin - 4) < 1e-9 && abs(ellipse.yMin - 3) < 1e-9)
            await #expect(throws: StoreError.self) {
                _ = try await store.addInstance(Instance(fileID: file.id, labelID: nil, kind: .polygon, bbox: nil))
            }
        }
    }

    static func schemaObjects(_ store: SQLiteStore) async throws -> Set<String> {
        try await store.pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('trigger', 'index') AND name NOT LIKE 'sqlite_%'"))
        }
    }

    @Test func importsLeaveTriggersAndIndexesInPlaceWhetherTheySucceedOrFail() async throws {
        try await withTemporaryStore { store, directory in
            let before = try await Self.schemaObjects(store)
            #expect(before.isSuperset(of: ["instances_count_insert", "instances_count_update", "instances_count_delete",
                                           "instances_by_box", "instances_by_file", "label_counts_by_label"]))
            let dataset = try await store.importSample()
            #expect(try await Self.schemaObjects(store) == before)
            await #expect(throws: StoreError.self) {
                _ = try await store.performImport(projectID: "coco-dataset", datasetName: "Default") { writer in
                    _ = try writer.insertFile(NewFile(type: .image, name: "x", media: Media()))
                    throw StoreError.invalid("abandon")
                }
            }
            #expect(try await Self.schemaObjects(store) == before)
            #expect(try await store.dataset(id: dataset.id)?.count == 9)
            // Counts written by the import's aggregate equal a direct count, and the restored
            // triggers keep them right for writes after it.
            try await store.importGenerated(files: 300, instancesPerFile: 4, projectID: "coco-dataset", in: directory)
            #expect(try await Self.labelCountMismatches(store) == 0)
        }
    }

    /// Index and trigger definitions by name, as SQLite holds them.
    static func schemaSQL(_ store: SQLiteStore) async throws -> [String: String] {
        try await store.pool.read { db in
            var sql: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL") {
                sql[row["name"]] = row["sql"]
            }
            return sql
        }
    }

    static func labelCountMismatches(_ store: SQLiteStore) async throws -> Int? {
        try await store.pool.read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM (
                    SELECT file_id, label_id, count(*) AS n FROM instances
                    WHERE label_id IS NOT NULL AND deleted = 0 GROUP BY file_id, label_id) AS direct
                FULL OUTER JOIN label_counts c USING (file_id, label_id)
                WHERE direct.n IS NOT c.count
                """)
        }
    }

    /// Writes `files` files of 4 labelled boxes each into dataset `name`, reporting after
    /// every instance whether the writer has dropped the instance indexes.
    static func importBoxes(
        _ store: SQLiteStore, files: Int, dataset name: String, thenFail: Bool = false
    ) async throws -> [Bool] {
        try await store.performImport(projectID: "bulk", datasetName: name) { writer in
            let sqlite = writer as! SQLiteImportWriter
            let labels = try (0..<7).map { try writer.upsertLabel(NewLabel(name: "label\($0)")) }
            var dropped: [Bool] = []
            for f in 0..<files {
                let file = try writer.insertFile(NewFile(type: .image, name: "\(name)-\(f)", media: Media()))
                try writer.append(fileID: file)
                for k in 0..<4 {
                    let x = Double((f * 7 + k * 13) % 97)
                    try writer.insertInstance(NewInstance(
                        fileID: file, labelID: labels[(f + k * k) % labels.count], kind: .box,
                        bbox: BoundingBox(xMin: x, yMin: x / 2, xMax: x + 3, yMax: x + 1)))
                    dropped.append(sqlite.droppedIndexes)
                }
            }
            if thenFail { throw StoreError.invalid("abandon") }
            return dropped
        }
    }

    /// The instance counts of a dataset's first three items, read as a stream reads them (with
    /// statements kept compiled across calls).
    static func streamedInstanceCounts(_ store: any Store, dataset name: String) async throws -> [Int] {
        let dataset = try #require(try await store.dataset(projectID: "bulk", name: name))
        return try await store.storedItems(datasetID: dataset.id, range: 0..<3).map(\.instances.count)
    }

    /// Every file's label counts against its live instances, read through the protocol.
    static func labelCountsMatchInstances(_ store: any Store) async throws -> Bool {
        for project in try await store.projects() {
            for dataset in try await store.datasets(projectID: project.id) {
                for item in try await store.items(datasetID: dataset.id, range: 0..<dataset.count) {
                    var expected: [Int64: Int] = [:]
                    for instance in item.instances { if let label = instance.labelID { expected[label, default: 0] += 1 } }
                    let counted = try await store.labelCounts(fileID: item.file.id)
                    guard Dictionary(uniqueKeysWithValues: counted.map { ($0.labelID, $0.count) }) == expected else { return false }
                }
            }
        }
        return true
    }

    @Test(arguments: StoreEngine.available)
    func labelCountsEqualTheLiveInstancesAfterImportsFailuresAndWrites(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let dataset = try await store.importSample()
            await #expect(throws: StoreError.self) {
                _ = try await store.performImport(projectID: "coco-dataset", datasetName: "Default") { writer in
                    let file = try writer.insertFile(NewFile(type: .image, name: "x", media: Media()))
                    try writer.append(fileID: file)
                    try writer.insertInstance(
                        NewInstance(fileID: file, labelID: nil, kind: .box, bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 1, yMax: 1)))
                    throw StoreError.invalid("abandon")
                }
            }
            #expect(try await store.dataset(id: dataset.id)?.count == 9)
            try await store.importGenerated(files: 300, instancesPerFile: 4, projectID: "coco-dataset", in: directory)
            let item = try #require(try await store.storedItem(datasetID: dataset.id, position: 2))
            let label = try #require(try await store.labels(projectID: "coco-dataset").last)
            _ = try await store.addInstance(
                Instance(fileID: item.file.id, labelID: label.id, kind: .box, bbox: BoundingBox(xMin: 1, yMin: 1, xMax: 5, yMax: 5)))
            try await store.deleteInstance(id: try #require(item.instances.first).id)
            #expect(try await Self.labelCountsMatchInstances(store))
        }
    }

    @Test func aLargeImportRebuildsTheIndexesItDroppedAndASmallOneKeepsThem() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await store.ensureProject(Project(id: "bulk", name: "bulk"))
            // Read once before the imports, so that the stream's statements are compiled against
            // the schema the imports then change.
            _ = try await Self.importBoxes(store, files: 10, dataset: "seed")
            #expect(try await Self.streamedInstanceCounts(store, dataset: "seed") == [4, 4, 4])
            let schema = try await Self.schemaSQL(store)
            let threshold = Int(SQLiteImportWriter.smallestBulkLoad)

            // Into an empty store: the indexes go after `threshold` rows and come back, the same.
            let first = try await Self.importBoxes(store, files: threshold / 4 + 10, dataset: "big")
            #expect(first.firstIndex(of: true) == threshold, "dropped after exactly the threshold")
            #expect(try await Self.schemaSQL(store) == schema)
            #expect(try await Self.labelCountMismatches(store) == 0)
            #expect(try await Self.streamedInstanceCounts(store, dataset: "seed") == [4, 4, 4])
            #expect(try await Self.streamedInstanceCounts(store, dataset: "big") == [4, 4, 4])
            try await store.pool.read { db in
                #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
                let byIndex = try Int.fetchOne(db, sql: "SELECT count(*) FROM instances INDEXED BY instances_by_box WHERE x_min >= 40")
                let byScan = try Int.fetchOne(db, sql: "SELECT count(*) FROM instances NOT INDEXED WHERE x_min >= 40")
                #expect(byIndex == byScan && byIndex! > 0)
                // The import's pragmas are undone: later reads keep their memory bounds.
                #expect(try String.fetchOne(db, sql: "PRAGMA temp_store") == "2")
            }
            #expect(try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") } == -65536)
            #expect(try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA threads") } == 0)

            // Fewer rows than the store holds: kept row by row.
            let small = try await Self.importBoxes(store, files: 100, dataset: "small")
            #expect(!small.contains(true))
            #expect(try await Self.labelCountMismatches(store) == 0)

            // A bulk import that fails restores everything: indexes, counts, rows.
            let rows = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM instances") }
            await #expect(throws: StoreError.self) {
                _ = try await Self.importBoxes(store, files: rows! / 4 + 10, dataset: "failed", thenFail: true)
            }
            #expect(try await Self.schemaSQL(store) == schema)
            #expect(try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM instances") } == rows)
            #expect(try await Self.labelCountMismatches(store) == 0)
            #expect(try await store.dataset(projectID: "bulk", name: "failed") == nil)
            #expect(try await Self.streamedInstanceCounts(store, dataset: "big") == [4, 4, 4])
        }
    }

    @Test(arguments: StoreEngine.available) func aFileCanBelongToSeveralDatasets(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let file = try await store.items(datasetID: dataset.id, range: 4..<5)[0].file
            let other = try await store.performImport(projectID: "coco-dataset", datasetName: "Subset") { writer in
                try writer.append(fileID: file.id)
                return writer.datasetID
            }
            #expect(try await store.dataset(id: other)?.count == 1)
            let item = try await store.items(datasetID: other, range: 0..<1)[0]
            #expect(item.file == file && item.position == 0)
            #expect(try await store.dataset(id: dataset.id)?.count == 9)
        }
    }
}

@Suite struct MediaStoreTests {
    @Test func putIsContentAddressedAndIdempotent() async throws {
        try await withTemporaryDirectory { directory in
            let media = try MediaStore(root: directory.appendingPathComponent("media"))
            let photo = Fixtures.path("coco/crowdpose/106848.jpg")
            let a = try media.put(fileAt: photo)
            let b = try media.put(fileAt: photo)
            #expect(a == b)
            #expect(a.sha256.count == 64 && a.mimeType == "image/jpeg")
            #expect(a.width == 640 && a.height == 425, "size read from the JPEG header matches the COCO record")
            #expect(try Data(contentsOf: URL(fileURLWithPath: media.path(for: a.sha256))) == Data(contentsOf: URL(fileURLWithPath: photo)))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: media.root.path).filter { $0.hasPrefix("staging") }
            #expect(leftovers.isEmpty)
        }
    }

    /// A file under 1 MiB is read whole and staged beside its address; a larger one is copied
    /// as it is hashed, staged in the root. Both end at their address with their bytes, and no
    /// staging file stays behind in either place.
    @Test func smallAndLargeFilesReachTheirAddressLeavingNoStagingFile() async throws {
        try await withTemporaryDirectory { directory in
            let media = try MediaStore(root: directory.appendingPathComponent("media"))
            var generator = SystemRandomNumberGenerator()
            for size in [0, 1, 4095, 4097, 1 << 20 - 1, 1 << 20, 3 << 19] {
                let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let source = directory.appendingPathComponent("source-\(size)")
                try Data(bytes).write(to: source)
                let stored = try media.put(fileAt: source.path)
                #expect(stored.byteSize == Int64(size))
                #expect(stored.sha256 == MediaStore.hex(SHA256.hash(data: bytes)))
                #expect(try Data(contentsOf: URL(fileURLWithPath: media.path(for: stored.sha256))) == Data(bytes), "\(size) bytes")
                #expect(try media.put(fileAt: source.path) == stored, "a second put of the same bytes is the same")
            }
            let everything = try #require(FileManager.default.subpathsOfDirectory(atPath: media.root.path) as [String]?)
            #expect(everything.filter { $0.contains("staging") }.isEmpty, "\(everything.filter { $0.contains("staging") })")
        }
    }

    @Test func headersOfEveryFixturePhotoMatchTheirCOCOSize() throws {
        for set in Fixtures.sampleSets {
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: set.annotationsPath)))
            for image in (object as! [String: Any])["images"] as! [[String: Any]] {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: set.imagesPath + "/" + (image["file_name"] as! String)))
                let header = try #require(ImageHeader(bytes: [UInt8](bytes.prefix(65_536))))
                #expect(header.width == image["width"] as? Int && header.height == image["height"] as? Int)
            }
        }
        #expect(ImageHeader(bytes: Array("not an image".utf8)) == nil)
    }
}
