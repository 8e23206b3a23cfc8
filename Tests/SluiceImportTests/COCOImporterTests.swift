import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceImport

/// Imports each shared COCO fixture and checks the store against an independent reading of
/// the same file (Foundation's JSONDecoder; JSONSerialization on Linux rounds some 17-digit
/// numbers wrongly, e.g. OCHuman's 188.86769422623237).
@Suite struct COCOImporterTests {
    struct Expected {
        var images: [[String: Any]]
        var annotations: [[String: Any]]
        var categories: [[String: Any]]

        init(path: String) throws {
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            guard case .object(let document) = value else { throw ImportError.unreadable(path: path) }
            func objects(_ key: String) -> [[String: Any]] {
                guard case .array(let list)? = document[key] else { return [] }
                return list.compactMap { $0.foundation as? [String: Any] }
            }
            images = objects("images")
            annotations = objects("annotations")
            categories = objects("categories")
        }
    }

    static func number(_ any: Any?) -> Double? { any as? Double }

    @Test(arguments: Fixtures.cocoSets)
    func importsFixtureWithEveryValue(set: Fixtures.COCOSet) async throws {
        let expected = try Expected(path: set.annotationsPath)
        try await withTemporaryStore { store, _ in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            let summary = try await COCOImporter(imagesDirectory: set.imagesPath)
                .importFile(at: set.annotationsPath, into: store, projectID: "p", datasetName: "D")
            #expect(summary.files == expected.images.count)
            #expect(summary.instances == expected.annotations.count)
            #expect(summary.media == expected.images.count)

            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            #expect(dataset.count == expected.images.count)
            let labels = try await store.labels(projectID: "p")
            #expect(Set(labels.map(\.name)) == Set(expected.categories.compactMap { $0["name"] as? String }))
            for category in expected.categories {
                let label = try #require(labels.first { $0.name == category["name"] as? String })
                #expect(label.supercategory == category["supercategory"] as? String)
                #expect(label.keypointNames == category["keypoints"] as? [String])
            }
            let items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            #expect(items.map(\.position) == Array(0..<expected.images.count))
            for (item, image) in zip(items, expected.images) {
                #expect(item.file.name == image["file_name"] as? String)
                #expect(item.file.media.width.map(Double.init) == (image["width"] as? Double))
                #expect(item.file.media.height.map(Double.init) == (image["height"] as? Double))
                #expect(item.file.metadata["coco_id"] == .number(Self.number(image["id"])!))
                let bytes = try Data(contentsOf: URL(fileURLWithPath: (set.imagesPath as NSString)
                    .appendingPathComponent(image["file_name"] as! String)))
                #expect(item.file.media.byteSize == Int64(bytes.count))
                let stored = try Data(contentsOf: URL(fileURLWithPath: store.media.path(for: try #require(item.file.media.sha256))))
                #expect(stored == bytes)
                let annotations = expected.annotations.filter { Self.number($0["image_id"]) == Self.number(image["id"]) }
                #expect(item.instances.count == annotations.count)
                for (instance, annotation) in zip(item.instances, annotations) {
                    try Self.check(instance, against: annotation, categories: expected.categories)
                }
            }
        }
    }

    static func check(_ instance: Instance, against a: [String: Any], categories: [[String: Any]]) throws {
        #expect(instance.metadata["coco_id"] == .number(number(a["id"])!))
        if let v = a["bbox"] as? [Double] {
            #expect(instance.bbox == BoundingBox(xMin: v[0], yMin: v[1], xMax: v[0] + v[2], yMax: v[1] + v[3]))
        }
        #expect(instance.area == number(a["area"]))
        #expect(instance.isCrowd == ((number(a["iscrowd"]) ?? 0) == 1))
        let category = categories.first { number($0["id"]) == number(a["category_id"]) }
        #expect(instance.label == category?["name"] as? String)
        if let keypoints = a["keypoints"] as? [Double] {
            #expect(instance.kind == .keypoints)
            let flat = try #require(instance.geometry.keypoints).flatMap { [$0.x, $0.y, Double($0.visibility)] }
            #expect(flat == keypoints)
        }
        switch a["segmentation"] {
        case let rings as [Any] where rings.isEmpty:
            // COCO writes `[]` for "no outline".
            #expect(instance.geometry.polygon == nil)
        case let rings as [[Double]]:
            #expect(instance.geometry.polygon == rings)
            if a["keypoints"] == nil { #expect(instance.kind == .polygon) }
        case let rle as [String: Any]:
            let size = try #require(rle["size"] as? [Double])
            #expect(instance.geometry.mask?.height == Int(size[0]))
            #expect(instance.geometry.mask?.width == Int(size[1]))
            switch rle["counts"] {
            case let s as String: #expect(instance.geometry.mask?.counts == .compressed(s))
            case let r as [Double]: #expect(instance.geometry.mask?.counts == .runs(r.map { Int($0) }))
            default: Issue.record("unexpected counts")
            }
            if a["keypoints"] == nil { #expect(instance.kind == .mask) }
        default:
            break
        }
        if let caption = a["caption"] as? String {
            #expect(instance.attributes["caption"] == .string(caption))
            #expect(instance.labelID == nil)
            #expect(instance.kind == .global)
        }
        if let attributes = a["attributes"] as? [String: Any] {
            for (key, value) in attributes {
                switch value {
                case let s as String: #expect(instance.attributes[key] == .string(s))
                case let n as Double: #expect(instance.attributes[key] == .number(n))
                default: break
                }
            }
        }
    }

    @Test func labelCountsMatchTheAnnotations() async throws {
        let set = Fixtures.cocoSets[0]
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            let person = try #require(try await store.labels(projectID: "coco-dataset").first { $0.name == "person" })
            for item in items {
                let counts = try await store.labelCounts(fileID: item.file.id)
                let expected = item.instances.filter { $0.labelID == person.id }.count
                #expect(counts == (expected == 0 ? [] : [LabelCount(fileID: item.file.id, labelID: person.id, count: expected)]))
            }
            _ = set
        }
    }

    /// Writes `text` to a temporary file and imports it into a store that already holds the sample.
    func importVariant(_ text: String) async throws -> (error: (any Error)?, before: Int, after: Int, labelsAfter: Int) {
        try await withTemporaryStore { store, directory in
            let dataset = try await store.importSample()
            let labelsBefore = try await store.labels(projectID: "coco-dataset").count
            let path = directory.appendingPathComponent("variant.json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            var caught: (any Error)?
            do {
                _ = try await COCOImporter().importFile(at: path, into: store, projectID: "coco-dataset", datasetName: "Default")
            } catch {
                caught = error
            }
            let after = try #require(try await store.dataset(id: dataset.id))
            let labelsAfter = try await store.labels(projectID: "coco-dataset").count
            #expect(labelsAfter >= labelsBefore)
            return (caught, dataset.count, after.count, labelsAfter - labelsBefore)
        }
    }

    static let validImages = #"[{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}, {"id": 2, "file_name": "b.jpg", "width": 10, "height": 10}]"#

    @Test func malformedBoxIsRejectedWholeWithItsPath() async throws {
        let text = """
            {"categories": [{"id": 1, "name": "newlabel"}], "images": \(Self.validImages),
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
                             {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 2, 3]}]}
            """
        let result = try await importVariant(text)
        #expect(result.error as? ImportError == .malformed(path: "annotations[1].bbox", expected: "4 numbers", line: 3))
        #expect("\(result.error!)" == "annotations[1].bbox: expected 4 numbers (line 3)")
        #expect(result.after == result.before)
        #expect(result.labelsAfter == 0)
    }

    @Test(arguments: [
        (#"{"images": [{"id": 1, "file_name": 5}]}"#, "images[0].file_name: expected a string (line 1)"),
        (#"{"images": [{"id": "x", "file_name": "a"}]}"#, "images[0].id: expected an integer (line 1)"),
        (#"{"images": [{"file_name": "a"}]}"#, "images[0].id: expected an integer image id (line 1)"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 1, "segmentation": [[1, 2, 3]]}]}"#,
         "annotations[0].segmentation[0]: expected an even count of numbers (x, y pairs) (line 1)"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 1, "keypoints": [1, 2]}]}"#,
         "annotations[0].keypoints: expected a multiple of 3 numbers (x, y, visibility) (line 1)"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 1, "segmentation": {"counts": "ab"}}]}"#,
         "annotations[0].segmentation.size: expected [height, width] (line 1)"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 1, "iscrowd": 2}]}"#,
         "annotations[0].iscrowd: expected 0, 1, true or false (line 1)"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 9, "bbox": [0, 0, 1, 1]}]}"#,
         "annotations[0].image_id: no image with id 9 in the file"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 1, "category_id": 4}]}"#,
         "annotations[0].category_id: no category with id 4 in the file"),
        (#"{"images": [{"id": 1, "file_name": "a"}, {"id": 1, "file_name": "b"}]}"#,
         "images[1].id: duplicate image id 1"),
        (#"[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9}]"#,
         "$: expected a COCO dataset object; this is an array (a results file?) (line 1)"),
        (#"{"images": \#(validImages), "annotations": [{"image_id": 1, "bbox": [0, 0, 1, 1]}"#,
         "malformed JSON at line 1, column 187: unexpected end of input"),
    ])
    func badInputIsRejectedWholeWithAClearError(text: String, message: String) async throws {
        let result = try await importVariant(text)
        let error = try #require(result.error)
        #expect("\(error)" == message)
        #expect(result.after == result.before, "nothing of a rejected import is kept")
    }

    @Test func anEarlyStoreSideErrorStopsTheParserOfALargeFile() async throws {
        // The duplicate id fails on the writer side while the parser thread still has
        // ~40,000 images to go and is blocked on the full pipe: it must stop, not hang.
        var images = [#"{"id": 1, "file_name": "a"}"#, #"{"id": 1, "file_name": "b"}"#]
        for i in 2..<40_000 { images.append(#"{"id": \#(i), "file_name": "f\#(i)"}"#) }
        let result = try await importVariant(#"{"images": [\#(images.joined(separator: ","))]}"#)
        #expect("\(try #require(result.error))" == "images[1].id: duplicate image id 1")
        #expect(result.after == result.before)
    }

    @Test func categoriesAfterAnnotationsAreResolved() async throws {
        let text = """
            {"annotations": [{"id": 7, "image_id": 2, "category_id": 3, "bbox": [1, 1, 2, 2]}],
             "images": \(Self.validImages),
             "categories": [{"id": 3, "name": "person", "supercategory": "human"}]}
            """
        try await withTemporaryStore { store, directory in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            let path = directory.appendingPathComponent("late.json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let summary = try await COCOImporter().importFile(at: path, into: store, projectID: "p", datasetName: "D")
            #expect(summary.files == 2 && summary.instances == 1)
            let labels = try await store.labels(projectID: "p")
            #expect(labels.map(\.name) == ["person"])
            let items = try await store.items(datasetID: summary.datasetID, range: 0..<2)
            #expect(items.map(\.file.name) == ["a.jpg", "b.jpg"])
            #expect(items[1].instances.map(\.label) == ["person"])
            #expect(try await store.labelCounts(fileID: items[1].file.id).map(\.count) == [1])
        }
    }

    @Test func missingMediaIsAnError() async throws {
        let set = Fixtures.cocoSets[0]
        try await withTemporaryStore { store, directory in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            await #expect(throws: ImportError.self) {
                _ = try await COCOImporter(imagesDirectory: directory.path)
                    .importFile(at: set.annotationsPath, into: store, projectID: "p", datasetName: "D")
            }
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "the dataset the import created is rolled back too")
        }
    }

    @Test func reimportAppendsAndReusesLabels() async throws {
        try await withTemporaryStore { store, _ in
            _ = try await store.importSample()
            let dataset = try await store.importSample()
            #expect(dataset.count == 18)
            #expect(try await store.labels(projectID: "coco-dataset").map(\.name) == ["person"])
            let first = try await store.items(datasetID: dataset.id, range: 0..<1)[0]
            let again = try await store.items(datasetID: dataset.id, range: 9..<10)[0]
            #expect(first.file.media.sha256 == again.file.media.sha256, "media is content-addressed")
            #expect(first.file.id != again.file.id)
        }
    }

    @Test func progressIsReported() async throws {
        try await withTemporaryStore { store, directory in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            let summary = try SyntheticCOCO(files: 500, instancesPerFile: 3, labels: 5)
                .write(to: directory.appendingPathComponent("g").path)
            let reports = Reports()
            _ = try await COCOImporter(progress: { reports.append($0) })
                .importFile(at: summary.annotationsPath, into: store, projectID: "p", datasetName: "D")
            let last = try #require(reports.all.last)
            #expect(last.files == 500 && last.instances == summary.instances)
            #expect(last.bytesRead == last.totalBytes)
            #expect(last.line.contains("500 files"))
            // The last report comes when every record is written, before the store's own work.
            #expect(last.finishing && last.line.hasSuffix("100% · indexing, counting labels, committing"))
            #expect(reports.all.dropLast().allSatisfy { !$0.finishing })
        }
    }
}

final class Reports: @unchecked Sendable {
    // Guarded by `lock`: the importer reports from the store's writer thread.
    private let lock = NSLock()
    private var reports: [ImportProgress] = []

    func append(_ report: ImportProgress) {
        lock.lock()
        reports.append(report)
        lock.unlock()
    }

    var all: [ImportProgress] {
        lock.lock()
        defer { lock.unlock() }
        return reports
    }
}

extension JSONValue {
    /// The value as Foundation objects (numbers as Double), for dictionary-style checks.
    var foundation: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let n): return n
        case .string(let s): return s
        case .array(let a): return a.map(\.foundation)
        case .object(let o): return o.mapValues(\.foundation)
        }
    }
}
