import Foundation
import SluiceModel
import SluiceQuery
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceImport

/// Exports of real SQLite stores, compared with the files they were imported from.
@Suite struct DatasetExporterTests {
    /// The export written to memory through the same sink the CLI and the server use.
    static func export(
        _ store: SQLiteStore, _ dataset: Dataset, _ format: ExportFormat, positions: [Int]? = nil, pageSize: Int = 2
    ) async throws -> (bytes: [UInt8], summary: ExportSummary) {
        var bytes: [UInt8] = []
        let exporter = DatasetExporter(
            source: ExportSource(store: store, dataset: dataset, positions: positions, pageSize: pageSize),
            format: format)
        let summary = try await exporter.write { bytes.append(contentsOf: $0) }
        return (bytes, summary)
    }

    static func document(_ bytes: [UInt8]) throws -> [String: JSONValue] {
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else {
            throw ImportError.unreadable(path: "export")
        }
        return object
    }

    static func objects(_ document: [String: JSONValue], _ key: String) -> [[String: JSONValue]] {
        guard case .array(let list)? = document[key] else { return [] }
        return list.compactMap { if case .object(let o) = $0 { o } else { nil } }
    }

    /// The one normalisation: a source annotation with a box and no `segmentation` key comes
    /// back with `segmentation: []`, COCO's "no outline" (the store keeps no difference).
    static func normalized(_ exported: [String: JSONValue], like original: [String: JSONValue]) -> [String: JSONValue] {
        var out = exported
        if original["segmentation"] == nil, out["segmentation"] == .array([]) { out["segmentation"] = nil }
        return out
    }

    @Test(arguments: Fixtures.cocoSets)
    func cocoExportEqualsTheImportedFile(set: Fixtures.COCOSet) async throws {
        let original = try Self.document(Array(try Data(contentsOf: URL(fileURLWithPath: set.annotationsPath))))
        try await withTemporaryStore { store, _ in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            _ = try await COCOImporter(imagesDirectory: set.imagesPath)
                .importFile(at: set.annotationsPath, into: store, projectID: "p", datasetName: "D")
            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let (bytes, summary) = try await Self.export(store, dataset, .coco)
            let exported = try Self.document(bytes)
            #expect(summary.files == Self.objects(original, "images").count)
            #expect(summary.instances == Self.objects(original, "annotations").count)
            #expect(Self.objects(exported, "images") == Self.objects(original, "images"))
            #expect(Self.objects(exported, "categories") == Self.objects(original, "categories"))
            let annotations = Self.objects(original, "annotations")
            let back = Self.objects(exported, "annotations")
            #expect(back.count == annotations.count)
            // Annotations come back grouped by image in dataset order; compare by id.
            let byID = Dictionary(back.map { ($0["id"]!, $0) }, uniquingKeysWith: { one, _ in one })
            for annotation in annotations {
                let again = try #require(byID[annotation["id"]!], "annotation \(annotation["id"]!)")
                #expect(Self.normalized(again, like: annotation) == annotation)
            }
        }
    }

    @Test func cocoExportOfTwoImportsUsesStoreIDsWhereSourceIDsCollide() async throws {
        try await withTemporaryStore { store, _ in
            // The Datumaro instance files have images 5 and 40, but both have an annotation 1.
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            for set in Fixtures.cocoSets[3...4] {
                _ = try await COCOImporter(imagesDirectory: set.imagesPath)
                    .importFile(at: set.annotationsPath, into: store, projectID: "p", datasetName: "D")
            }
            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let exported = try Self.document(try await Self.export(store, dataset, .coco).bytes)
            let images = Self.objects(exported, "images").map { $0["id"]! }
            let annotations = Self.objects(exported, "annotations").map { $0["id"]! }
            #expect(Set(images).count == images.count)
            #expect(Set(annotations).count == annotations.count)
            let items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            #expect(images == [.number(5), .number(40)])
            #expect(annotations == items.flatMap(\.instances).map { .number(Double($0.id)) })
        }
    }

    @Test func sluiceJSONHoldsTheLabelsAndEveryItem() async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let (bytes, summary) = try await Self.export(store, dataset, .sluiceJSON)
            #expect(summary.files == dataset.count)
            struct Document: Decodable {
                var format: String
                var dataset: Dataset
                var labels: [Label]
                var count: Int
                var items: [Item]
            }
            let document = try JSONDecoder().decode(Document.self, from: Data(bytes))
            #expect(document.format == "sluice-json")
            #expect(document.dataset == dataset)
            #expect(document.labels == (try await store.labels(projectID: dataset.projectID)))
            #expect(document.count == dataset.count)
            #expect(document.items == (try await store.items(datasetID: dataset.id, range: 0..<dataset.count)))
        }
    }

    @Test func aSliceExportsOnlyItsItems() async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let schema = QuerySchema(
                labels: try await store.labels(projectID: dataset.projectID),
                attributeGroups: try await store.attributeGroups(projectID: dataset.projectID))
            let query = try QueryParser.parse("labels.person >= 3").checked(against: schema)
            let positions = try await store.matchingPositions(datasetID: dataset.id, query: query)
            #expect(!positions.isEmpty && positions.count < dataset.count)
            let exported = try Self.document(try await Self.export(store, dataset, .coco, positions: positions).bytes)
            let items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            let expected = positions.map { items[$0].file.name }
            #expect(Self.objects(exported, "images").map { $0["file_name"] } == expected.map { .string($0) })
            let instances = positions.reduce(0) { $0 + items[$1].instances.count }
            #expect(Self.objects(exported, "annotations").count == instances)
        }
    }

    /// The document is never built whole: the sink receives it a page at a time, and no chunk
    /// grows with the dataset (the memory bar itself, 1M files, is measured on a release build).
    @Test(arguments: [ExportFormat.coco, .sluiceJSON])
    func theDocumentReachesTheSinkPageByPage(format: ExportFormat) async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryStore { store, _ in
                let dataset = try await store.importGenerated(files: 3000, instancesPerFile: 3, labels: 10, in: directory)
                var chunks = 0
                var largest = 0
                var total = 0
                let exporter = DatasetExporter(
                    source: ExportSource(store: store, dataset: dataset, pageSize: 100), format: format)
                let summary = try await exporter.write { bytes in
                    chunks += 1
                    largest = max(largest, bytes.count)
                    total += bytes.count
                }
                #expect(summary.files == 3000 && summary.bytes == total)
                let pages = 3000 / 100 * (format == .coco ? 2 : 1)
                #expect(chunks >= pages)
                #expect(largest * pages <= total * 3, "largest chunk \(largest) of \(total) bytes")
            }
        }
    }

    @Test func boxExtentsComeBackAsWritten() {
        for (x, w) in [(106.01, 273.15), (0.1, 0.2), (13.43, 352.42), (1e6 + 0.3, 0.7), (5, 0)] as [(Double, Double)] {
            #expect(COCOWriter.extent(from: x, to: x + w) == w, "\(x) + \(w)")
        }
    }
}
