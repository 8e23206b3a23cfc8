import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import SluiceThumbnails
import Testing

@testable import SluiceImport

/// LabelMe folders in and out: the MIT XML fixture (Datumaro's) and labelme-tool JSON written
/// here, each shape kind, faults named by file and line with nothing kept, paths held inside
/// the folder, and export → import round trips in both forms.
@Suite struct LabelMeTests {
    static let fixture = Fixtures.path("labelme-xml/datumaro-labelme")

    static func importer() -> LabelMeImporter {
        LabelMeImporter(maskDecoder: { try MaskImage.read(at: $0, maxPixels: LabelMeImporter.maxMaskPixels) })
    }

    @discardableResult
    static func importFolder(_ path: String, _ store: SQLiteStore, _ dataset: String = "D") async throws -> ImportSummary {
        _ = try await store.ensureProject(Project(id: "p", name: "p"))
        return try await importer().importFolder(at: path, into: store, projectID: "p", datasetName: dataset)
    }

    static func items(_ store: SQLiteStore, _ name: String) async throws -> [Item] {
        let dataset = try #require(try await store.dataset(projectID: "p", name: name))
        return try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
    }

    /// A labelme-tool folder: `a.json` beside `a.png` with one shape of each type, and
    /// `sub/b.json` whose image is only its `imageData`.
    static func writeJSONFolder(in directory: URL) throws -> String {
        let root = directory.appendingPathComponent("labelme-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(root)/sub", withIntermediateDirectories: true)
        try TinyPNG.write(to: "\(root)/a.png", seed: 1)
        try TinyPNG.write(to: "\(root)/b-source.png", seed: 2)
        let embedded = try Data(contentsOf: URL(fileURLWithPath: "\(root)/b-source.png")).base64EncodedString()
        try FileManager.default.removeItem(atPath: "\(root)/b-source.png")
        try """
        {
          "version": "5.5.0",
          "flags": {"night": true, "blurry": false},
          "shapes": [
            {"label": "car", "points": [[6, 5], [1, 2]], "group_id": null, "shape_type": "rectangle", "flags": {"parked": true}},
            {"label": "road", "points": [[0, 0], [7, 0], [7, 3]], "group_id": 4, "shape_type": "polygon", "flags": {}},
            {"label": "light", "points": [[3.5, 1.25]], "group_id": null, "shape_type": "point", "flags": {}},
            {"label": "lane", "points": [[0, 7], [7, 7]], "group_id": null, "shape_type": "line", "flags": {}},
            {"label": "lane", "points": [[0, 6], [3, 5], [7, 6]], "group_id": null, "shape_type": "linestrip", "flags": {}},
            {"label": "wheel", "points": [[4, 4], [4, 7]], "group_id": 4, "shape_type": "circle", "flags": {},
             "description": "front"}
          ],
          "imagePath": "a.png",
          "imageData": null,
          "imageHeight": 8,
          "imageWidth": 8
        }
        """.write(toFile: "\(root)/a.json", atomically: true, encoding: .utf8)
        try """
        {"version": "5.5.0", "flags": {}, "shapes": [
          {"label": "car", "points": [[0, 0], [2, 2]], "shape_type": "rectangle", "group_id": null, "flags": {}}],
         "imagePath": "b.png", "imageData": "\(embedded)", "imageHeight": 8, "imageWidth": 8}
        """.write(toFile: "\(root)/sub/b.json", atomically: true, encoding: .utf8)
        return root
    }

    @Test func theDatumaroFixtureImportsEveryObjectWithMasksAttributesAndParts() async throws {
        try await withTemporaryStore { store, _ in
            let summary = try await Self.importFolder(Self.fixture, store)
            let items = try await Self.items(store, "D")
            #expect(summary.files == 1 && summary.instances == 7 && summary.media == 1)
            let item = try #require(items.first)
            #expect(item.file.name == "img1.png" && item.file.metadata["subset"] == .string("subset1"))
            #expect(item.file.media.width == 102 && item.file.media.height == 77)
            let byLabel = Dictionary(grouping: item.instances, by: { $0.label ?? "" })
            #expect(byLabel.mapValues { $0.map(\.kind.rawValue) } == [
                "window": ["polygon"], "license plate": ["mask"], "o1": ["polygon"], "q1": ["polygon"], "b1": ["box"],
                "m1": ["mask"], "hg": ["polygon"],
            ])
            let b1 = try #require(byLabel["b1"]?.first)
            #expect(b1.bbox == BoundingBox(xMin: 13, yMin: 19, xMax: 23, yMax: 30))
            #expect(b1.attributes == ["hg": .bool(true), "occluded": .bool(true)] && b1.creator == "anonymous")
            #expect(byLabel["hg"]?.first?.attributes == ["gfd lkj lkj hi": .bool(true), "occluded": .bool(false)])
            #expect(byLabel["window"]?.first?.attributes == [:], "no <occluded>, no <attributes>: none")
            let o1 = try #require(byLabel["o1"]?.first)
            #expect(o1.geometry.polygon == [[30, 12, 42, 21, 24, 26, 15, 22, 18, 14, 22, 12, 27, 12]])
            #expect(o1.metadata["labelme_id"] == .number(2) && o1.metadata["labelme_hasparts"] == .array([.number(3), .number(4)]))
            #expect(byLabel["q1"]?.first?.metadata["labelme_ispartof"] == .array([.number(2)]))
            // The masks: inside the <segm><box> the XML gives, of the image's size, not empty.
            for (label, box) in [("license plate", (58.0, 66.0, 62.0, 68.0)), ("m1", (56.0, 14.0, 70.0, 23.0))] {
                let mask = try #require(byLabel[label]?.first)
                let rle = try #require(mask.geometry.mask)
                #expect(rle.width == 102 && rle.height == 77)
                let bits = try #require(BinaryMask(rle))
                #expect(bits.setCount > 0 && Double(bits.setCount) == mask.area)
                let b = try #require(mask.bbox)
                #expect(b.xMin >= box.0 - 1 && b.yMin >= box.1 - 1 && b.xMax <= box.2 + 1 && b.yMax <= box.3 + 1, "\(label): \(b)")
            }
        }
    }

    @Test func eachLabelmeShapeTypeBecomesItsKind() async throws {
        try await withTemporaryStore { store, directory in
            let root = try Self.writeJSONFolder(in: directory)
            let summary = try await Self.importFolder(root, store)
            let items = try await Self.items(store, "D")
            #expect(summary.files == 2 && summary.media == 2)
            #expect(items.map(\.file.name) == ["a.png", "sub/b.png"])
            let a = items[0]
            #expect(a.file.metadata["labelme_flags"] == .object(["night": .bool(true), "blurry": .bool(false)]))
            #expect(a.file.media.width == 8 && a.file.media.height == 8)
            let kinds = a.instances.map { "\($0.label ?? "-") \($0.kind.rawValue)" }
            #expect(kinds == ["car box", "road polygon", "light point", "lane line", "lane line", "wheel ellipse"])
            #expect(a.instances[0].bbox == BoundingBox(xMin: 1, yMin: 2, xMax: 6, yMax: 5))
            #expect(a.instances[0].attributes == ["parked": .bool(true)])
            #expect(a.instances[1].geometry.polygon == [[0, 0, 7, 0, 7, 3]] && a.instances[1].metadata["labelme_group_id"] == .number(4))
            #expect(a.instances[2].geometry.points == [Point(x: 3.5, y: 1.25)])
            #expect(a.instances[3].geometry.line?.count == 2 && a.instances[3].metadata["labelme_shape_type"] == nil)
            #expect(a.instances[4].geometry.line?.count == 3 && a.instances[4].metadata["labelme_shape_type"] == .string("linestrip"))
            #expect(a.instances[5].geometry.ellipse == Ellipse(centerX: 4, centerY: 4, radiusX: 3, radiusY: 3))
            #expect(a.instances[5].bbox == BoundingBox(xMin: 1, yMin: 1, xMax: 7, yMax: 7))
            #expect(a.instances[5].metadata["labelme_description"] == .string("front"))
            // sub/b.json's image is only its imageData: stored, content-addressed like any other.
            let b = items[1]
            #expect(b.file.media.sha256 != nil && b.file.media.mimeType == "image/png" && b.file.media.width == 8)
        }
    }

    @Test func aMalformedLabelmeFileIsNamedByFileAndLineAndNothingIsKept() async throws {
        try await withTemporaryStore { store, directory in
            let root = try Self.writeJSONFolder(in: directory)
            let path = "\(root)/a.json"
            var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
            let index = try #require(lines.firstIndex { $0.contains("\"point\"") })
            let original = lines[index]
            lines[index] = original.replacingOccurrences(of: "[[3.5, 1.25]]", with: "[[3.5]]")
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let error = await #expect(throws: ImportError.self) { try await Self.importFolder(root, store) }
            #expect(
                error == .invalid(file: "a.json", line: index + 1, path: "shapes[2].points[0]", message: "expected a point [x, y]"))
            #expect(error?.description.hasPrefix("a.json:\(index + 1): shapes[2].points[0]") == true)
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "the failed import left no dataset")
            #expect(try await store.labels(projectID: "p").isEmpty, "nor a label")

            lines[index] = original.replacingOccurrences(of: "\"point\"", with: "\"cuboid\"")
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let unknown = await #expect(throws: ImportError.self) { try await Self.importFolder(root, store) }
            guard case .invalid("a.json", index + 1, "shapes[2].shape_type", _)? = unknown else {
                Issue.record("expected the shape type refused at a.json:\(index + 1), got \(String(describing: unknown))")
                return
            }
        }
    }

    @Test func aFaultyXMLObjectIsNamedByFileLineAndElement() async throws {
        try await withTemporaryStore { store, directory in
            let root = directory.appendingPathComponent("xml").path
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: root)
            let xml = "\(root)/Annotations/subset1/img1.xml"
            let text = try String(contentsOfFile: xml, encoding: .utf8)
            try text.replacingOccurrences(of: "<x>30</x>", with: "\n<x>thirty</x>").write(toFile: xml, atomically: true, encoding: .utf8)
            let error = await #expect(throws: ImportError.self) { try await Self.importFolder(root, store) }
            #expect(
                error
                    == .invalid(
                        file: "Annotations/subset1/img1.xml", line: 2, path: "annotation/object[3]/polygon/pt[1]/x",
                        message: "expected a number, got 'thirty'"))
            #expect(try await store.dataset(projectID: "p", name: "D") == nil)
        }
    }

    @Test func pathsThatLeaveTheFolderAreRefusedByField() async throws {
        try await withTemporaryStore { store, directory in
            let root = try Self.writeJSONFolder(in: directory)
            let path = "\(root)/sub/b.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "\"imagePath\": \"b.png\"", with: "\"imagePath\": \"../../../etc/passwd\"")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let error = await #expect(throws: ImportError.self) { try await Self.importFolder(root, store) }
            guard case .unsafePath(let field, let file, _)? = error else {
                Issue.record("expected a refused path, got \(String(describing: error))")
                return
            }
            #expect(field.hasPrefix("sub/b.json:") && field.hasSuffix(": imagePath") && file == "../../../etc/passwd")
            // Up and back down inside the folder is fine: ../a.png from sub/ is a.png.
            try text.replacingOccurrences(of: "\"imagePath\": \"b.png\"", with: "\"imagePath\": \"..\\\\a.png\"")
                .write(toFile: path, atomically: true, encoding: .utf8)
            try await Self.importFolder(root, store)
            #expect(try await Self.items(store, "D").map(\.file.name) == ["a.png", "a.png"])

            let xmlRoot = directory.appendingPathComponent("xml").path
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: xmlRoot)
            let xml = "\(xmlRoot)/Annotations/subset1/img1.xml"
            try String(contentsOfFile: xml, encoding: .utf8)
                .replacingOccurrences(of: "<mask>img1_mask_1.png</mask>", with: "<mask>../../Images/subset1/img1.png</mask>")
                .write(toFile: xml, atomically: true, encoding: .utf8)
            let mask = await #expect(throws: ImportError.self) { try await Self.importFolder(xmlRoot, store, "X") }
            guard case .unsafePath(let maskField, _, _)? = mask else {
                Issue.record("expected a refused mask path, got \(String(describing: mask))")
                return
            }
            #expect(maskField == "Annotations/subset1/img1.xml: annotation/object[2]/segm/mask")
        }
    }

    /// What a round trip keeps: per image (by its name without folders), label, kind, box,
    /// geometry and attributes.
    static func view(_ items: [Item]) -> [String: [String]] {
        var view: [String: [String]] = [:]
        for item in items {
            view[(item.file.name as NSString).lastPathComponent] = item.instances.map { instance in
                let b = instance.bbox.map { String(format: "%.2f %.2f %.2f %.2f", $0.xMin, $0.yMin, $0.xMax, $0.yMax) } ?? "-"
                let attributes = instance.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                var output = JSONOutput()
                output.value(.object(instance.metadata.filter { $0.key != "labelme_id" && !$0.key.hasPrefix("labelme_has") && !$0.key.hasPrefix("labelme_ispart") }))
                let geometry = String(describing: instance.geometry.mask.flatMap(BinaryMask.init)?.pixels.hashValue ?? instance.geometry.hashValue)
                return "\(instance.label ?? "-") \(instance.kind.rawValue) \(b) \(geometry) \(attributes.joined(separator: ",")) \(output.string)"
            }.sorted()
        }
        return view
    }

    @Test(arguments: [FolderExportFormat.labelme, .labelmeXML])
    func exportedFoldersImportBackTheSame(format: FolderExportFormat) async throws {
        try await withTemporaryStore { store, directory in
            try await Self.importFolder(format == .labelme ? try Self.writeJSONFolder(in: directory) : Self.fixture, store)
            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let out = directory.appendingPathComponent("out").path
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let summary = try await FolderExporter(source: ExportSource(store: store, dataset: dataset), format: format)
                .write(into: out)
            #expect(summary.files == dataset.count && summary.skipped == 0)
            try await Self.importFolder(out, store, "again")
            let before = try await Self.items(store, "D"), after = try await Self.items(store, "again")
            #expect(Self.view(after) == Self.view(before))
            #expect(after.map(\.file.media.sha256) == before.map(\.file.media.sha256), "the images travel with the export")
            #expect(after.map(\.file.metadata) == before.map(\.file.metadata))
            if format == .labelmeXML {
                // Parts are renumbered with the objects but still join the same objects.
                func parts(_ item: Item) -> [String: [String]] {
                    var names: [Int: String] = [:]
                    for i in item.instances { if case .number(let id)? = i.metadata["labelme_id"] { names[Int(id)] = i.label } }
                    var parts: [String: [String]] = [:]
                    for i in item.instances {
                        if case .array(let ids)? = i.metadata["labelme_hasparts"] {
                            parts[i.label ?? ""] = ids.compactMap { if case .number(let n) = $0 { names[Int(n)] } else { nil } }.sorted()
                        }
                    }
                    return parts
                }
                #expect(parts(after[0]) == parts(before[0]) && parts(before[0]) == ["o1": ["b1", "q1"], "m1": ["hg"]])
            }
        }
    }

    @Test func binaryMasksRoundTripThroughRLEAndPNG() async throws {
        try await withTemporaryDirectory { directory in
            var pixels = [UInt8](repeating: 0, count: 5 * 3)
            for i in [1, 2, 7, 14] { pixels[i] = 1 }
            let mask = BinaryMask(width: 5, height: 3, pixels: pixels)
            // Column-major runs starting with a zero run (pycocotools): 000 100 110 000 001.
            #expect(mask.rle.counts == .runs([3, 1, 2, 2, 6, 1]))
            #expect(BinaryMask(mask.rle) == mask)
            #expect(mask.bounds == BoundingBox(xMin: 1, yMin: 0, xMax: 5, yMax: 3))
            let path = directory.appendingPathComponent("m.png").path
            #expect(FileManager.default.createFile(atPath: path, contents: Data(MaskPNG.encode(mask))))
            let read = try MaskImage.read(at: path, maxPixels: 100)
            #expect(read.width == 5 && read.height == 3 && read.pixels.map { $0 != 0 } == pixels.map { $0 != 0 })
        }
    }
}
