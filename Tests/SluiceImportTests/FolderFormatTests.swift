import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@testable import SluiceImport

/// Pascal VOC and YOLO folders in and out: the fixtures against an independent reading of
/// their files, faults named by file and line with nothing kept, and round trips.
@Suite struct FolderFormatTests {
    static let voc1 = Fixtures.path("voc/datumaro-voc1")
    static let voc2 = Fixtures.path("voc/datumaro-voc2")
    static let yoloStrict = Fixtures.path("yolo/datumaro-yolo/strict")
    static let yoloLoose = Fixtures.path("yolo/datumaro-yolo/labels")

    /// A writable copy of a fixture folder (fixtures are never edited).
    static func copy(_ folder: String, into directory: URL) throws -> String {
        let target = directory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.copyItem(atPath: folder, toPath: target)
        return target
    }

    static func items(_ store: SQLiteStore, _ name: String) async throws -> [Item] {
        let dataset = try #require(try await store.dataset(projectID: "p", name: name))
        return try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
    }

    static func importVOC(_ path: String, _ store: SQLiteStore, _ dataset: String = "D") async throws -> ImportSummary {
        _ = try await store.ensureProject(Project(id: "p", name: "p"))
        return try await VOCImporter().importFolder(at: path, into: store, projectID: "p", datasetName: dataset)
    }

    static func importYOLO(_ path: String, _ store: SQLiteStore, _ dataset: String = "D") async throws -> ImportSummary {
        _ = try await store.ensureProject(Project(id: "p", name: "p"))
        return try await YOLOImporter().importFolder(at: path, into: store, projectID: "p", datasetName: dataset)
    }

    /// The objects of a VOC XML read with Foundation's DOM parser: (name, xmin, ymin, xmax, ymax).
    static func domObjects(_ path: String) throws -> [(String, [Double])] {
        let document = try XMLDocument(contentsOf: URL(fileURLWithPath: path))
        return try document.nodes(forXPath: "/annotation/object").map { node in
            let name = try node.nodes(forXPath: "name").first?.stringValue ?? ""
            let box = try ["xmin", "ymin", "xmax", "ymax"].map {
                Double(try node.nodes(forXPath: "bndbox/\($0)").first?.stringValue ?? "") ?? .nan
            }
            return (name.trimmingCharacters(in: .whitespacesAndNewlines), box)
        }
    }

    @Test func vocFixturesImportEveryObjectWithItsFlagsPartsAndSubset() async throws {
        try await withTemporaryStore { store, _ in
            let summary = try await Self.importVOC(Self.voc1, store)
            let items = try await Self.items(store, "D")
            #expect(summary.files == 2 && items.map(\.file.name) == ["2007_000001.jpg", "2007_000002.jpg"])
            #expect(summary.media == 2)
            let first = items[0]
            let objects = try Self.domObjects("\(Self.voc1)/Annotations/2007_000001.xml")
            let wholeObjects = first.instances.filter { $0.metadata["voc_part_of"] == nil }
            #expect(wholeObjects.map { $0.label ?? "" } == objects.map(\.0))
            for (instance, (_, box)) in zip(wholeObjects, objects) {
                #expect([instance.bbox?.xMin, instance.bbox?.yMin, instance.bbox?.xMax, instance.bbox?.yMax] == box.map(Optional.some))
            }
            let cat = try #require(first.instances.first { $0.label == "cat" })
            #expect(cat.attributes["truncated"] == .bool(true) && cat.attributes["difficult"] == .bool(false))
            #expect(cat.attributes["pose"] == .string("Unspecified"))
            let person = try #require(first.instances.first { $0.label == "person" })
            #expect(person.attributes["phoning"] == .bool(true) && person.attributes["jumping"] == .bool(false))
            let head = try #require(first.instances.first { $0.label == "head" })
            #expect(head.metadata["voc_part_of"] == .number(2), "the head is a part of the second object")
            #expect(head.bbox == BoundingBox(xMin: 5.5, yMin: 6, xMax: 7.5, yMax: 8))
            #expect(first.file.media.width == 20 && first.file.media.height == 10)
            #expect(first.file.metadata["subset"] == .string("train"))
            #expect(items[1].instances.isEmpty && items[1].file.metadata["subset"] == .string("test"))

            // The label map names every label with its colour, in its order.
            _ = try await Self.importVOC(Self.voc2, store, "two")
            let labels = try await store.labels(projectID: "p")
            #expect(labels.first { $0.name == "aeroplane" }?.color == "#800000")
            #expect(try await Self.items(store, "two").map(\.file.name) == ["@.jpg", "a.jpg", "b.jpg", "c.jpg", "d.jpg"])
        }
    }

    @Test func aFaultyVOCFileIsNamedByFileLineAndElementAndNothingIsKept() async throws {
        try await withTemporaryStore { store, directory in
            let folder = try Self.copy(Self.voc1, into: directory)
            let xml = "\(folder)/Annotations/2007_000001.xml"
            let text = try String(contentsOfFile: xml, encoding: .utf8)
            try text.replacingOccurrences(of: "<xmin>4</xmin>", with: "<xmin>four</xmin>").write(
                toFile: xml, atomically: true, encoding: .utf8)
            let line = text.components(separatedBy: "\n").firstIndex { $0.contains("<xmin>4</xmin>") }! + 1
            let error = await #expect(throws: ImportError.self) { try await Self.importVOC(folder, store) }
            #expect(
                error
                    == .invalid(
                        file: "Annotations/2007_000001.xml", line: line, path: "annotation/object[2]/bndbox/xmin",
                        message: "expected a number, got 'four'"))
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "the failed import left no dataset")
            #expect(try await store.labels(projectID: "p").isEmpty)

            try "<annotation><object><name>cat</name>\n<bndbox></object></annotation>".write(
                toFile: xml, atomically: true, encoding: .utf8)
            let malformed = await #expect(throws: ImportError.self) { try await Self.importVOC(folder, store) }
            guard case .invalid(let file, let badLine, _, let message)? = malformed else {
                Issue.record("expected a fault in the XML, got \(String(describing: malformed))")
                return
            }
            #expect(file == "Annotations/2007_000001.xml" && badLine == 2 && message.hasPrefix("malformed XML"))

            let deep = String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)
            try "<annotation>\(deep)</annotation>".write(toFile: xml, atomically: true, encoding: .utf8)
            let nested = await #expect(throws: ImportError.self) { try await Self.importVOC(folder, store) }
            #expect(nested?.description.contains("deeper than 32") == true)

            try "<annotation><filename>../../../etc/passwd</filename></annotation>".write(
                toFile: xml, atomically: true, encoding: .utf8)
            let escape = await #expect(throws: ImportError.self) { try await Self.importVOC(folder, store) }
            guard case .unsafePath? = escape else { Issue.record("expected a refused path, got \(String(describing: escape))"); return }
        }
    }

    @Test(arguments: [yoloStrict, yoloLoose])
    func yoloFractionsBecomePixelsOfTheImagesOwnSize(folder: String) async throws {
        try await withTemporaryStore { store, _ in
            let summary = try await Self.importYOLO(folder, store)
            let items = try await Self.items(store, "D")
            #expect(summary.files == items.count && !items.isEmpty)
            let labels = try await store.labels(projectID: "p")
            let names = try String(contentsOfFile: "\(folder)/obj.names", encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(labels.map(\.name) == names)
            for item in items {
                let image = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(item.file.name)"))
                let header = try #require(ImageHeader(bytes: Array(image.prefix(65536))))
                let labelFile = (item.file.name as NSString).deletingPathExtension.replacingOccurrences(of: "images/", with: "labels/") + ".txt"
                let lines = try String(contentsOfFile: "\(folder)/\(labelFile)", encoding: .utf8).split(separator: "\n")
                #expect(item.instances.count == lines.count)
                for (instance, line) in zip(item.instances, lines) {
                    let v = line.split(separator: " ").map { Double($0)! }
                    #expect(instance.label == names[Int(v[0])])
                    let w = Double(header.width), h = Double(header.height)
                    let box = try #require(instance.bbox)
                    #expect(abs(box.xMin - (v[1] - v[3] / 2) * w) < 1e-9 && abs(box.yMin - (v[2] - v[4] / 2) * h) < 1e-9)
                    #expect(abs((box.xMax - box.xMin) - v[3] * w) < 1e-9 && abs((box.yMax - box.yMin) - v[4] * h) < 1e-9)
                }
            }
        }
    }

    @Test func ultralyticsLayoutWithSegmentsAndFaultsByLine() async throws {
        try await withTemporaryStore { store, directory in
            let root = directory.appendingPathComponent("ultra").path
            let fm = FileManager.default
            try fm.createDirectory(atPath: "\(root)/images/train", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(root)/labels/train", withIntermediateDirectories: true)
            try fm.copyItem(atPath: "\(Self.yoloStrict)/obj_train_data/1.jpg", toPath: "\(root)/images/train/a.jpg")
            try "path: .\ntrain: images/train  # the training images\nnames:\n  0: cat\n  1: 'dog # not a comment'\n".write(
                toFile: "\(root)/data.yaml", atomically: true, encoding: .utf8)
            try "1 0.5 0.5 0.2 0.4\n0 0.1 0.1 0.9 0.1 0.5 0.9\n".write(
                toFile: "\(root)/labels/train/a.txt", atomically: true, encoding: .utf8)
            _ = try await Self.importYOLO(root, store)
            let item = try #require(try await Self.items(store, "D").first)
            #expect(item.file.name == "images/train/a.jpg" && item.file.metadata["subset"] == .string("train"))
            #expect(item.instances.map { $0.label ?? "" } == ["dog # not a comment", "cat"])
            let polygon = item.instances[1]
            #expect(polygon.kind == .polygon)
            #expect(polygon.geometry.polygon == [[1.5, 1, 13.5, 1, 7.5, 9]], "fractions of the 15 × 10 image")

            try "1 0.5 0.5 0.2 0.4\n\n0 0.5 0.5\n".write(toFile: "\(root)/labels/train/a.txt", atomically: true, encoding: .utf8)
            let short = await #expect(throws: ImportError.self) { try await Self.importYOLO(root, store, "E") }
            guard case .invalid(let file, let line, _, _)? = short else { Issue.record("\(String(describing: short))"); return }
            #expect(file == "labels/train/a.txt" && line == 3)
            try "7 0.5 0.5 0.2 0.4\n".write(toFile: "\(root)/labels/train/a.txt", atomically: true, encoding: .utf8)
            let unknown = await #expect(throws: ImportError.self) { try await Self.importYOLO(root, store, "E") }
            #expect(unknown?.description.contains("class '7'") == true)
            #expect(try await store.dataset(projectID: "p", name: "E") == nil, "nothing of the failed imports is kept")
        }
    }

    @Test func anOversizedAnnotationFileIsRefusedByName() async throws {
        try await withTemporaryStore { store, directory in
            let folder = try Self.copy(Self.voc1, into: directory)
            let padding = String(repeating: " ", count: FolderFiles.maxAnnotationBytes)
            try "<annotation>\(padding)</annotation>".write(
                toFile: "\(folder)/Annotations/2007_000001.xml", atomically: true, encoding: .utf8)
            let error = await #expect(throws: ImportError.self) { try await Self.importVOC(folder, store) }
            guard case .invalid(let file, _, _, let message)? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(file == "Annotations/2007_000001.xml" && message.contains("the limit for this file is \(FolderFiles.maxAnnotationBytes)"))
            #expect(try await store.dataset(projectID: "p", name: "D") == nil)
        }
    }

    @Test func yoloPathsThatLeaveTheFolderAreRefusedByField() async throws {
        try await withTemporaryStore { store, directory in
            let folder = try Self.copy(Self.yoloStrict, into: directory)
            let data = "\(folder)/obj.data"
            let original = try String(contentsOfFile: data, encoding: .utf8)
            for (from, to, field) in [
                ("names = data/obj.names", "names = ../../../etc/passwd", "obj.data:3: names"),
                ("train = data/train.txt", "train = /etc/passwd", "obj.data:2: train"),
            ] {
                try original.replacingOccurrences(of: from, with: to).write(toFile: data, atomically: true, encoding: .utf8)
                let error = await #expect(throws: ImportError.self) { try await Self.importYOLO(folder, store) }
                guard case .unsafePath(let path, _, _)? = error else { Issue.record("\(String(describing: error))"); continue }
                #expect(path == field)
            }
            try original.write(toFile: data, atomically: true, encoding: .utf8)
            try "data/../../outside.jpg\n".write(toFile: "\(folder)/train.txt", atomically: true, encoding: .utf8)
            let climbing = await #expect(throws: ImportError.self) { try await Self.importYOLO(folder, store) }
            guard case .unsafePath(let path, _, _)? = climbing else { Issue.record("\(String(describing: climbing))"); return }
            #expect(path == "train.txt:1")
            #expect(try await store.dataset(projectID: "p", name: "D") == nil)
        }
    }

    /// What a round trip must keep: per image (by its name without folders), label, box and attributes.
    static func view(_ items: [Item]) -> [String: [String]] {
        var view: [String: [String]] = [:]
        for item in items {
            let key = (item.file.name as NSString).lastPathComponent
            view[key] = item.instances.map { instance in
                let b = instance.bbox.map { String(format: "%.4f %.4f %.4f %.4f", $0.xMin, $0.yMin, $0.xMax, $0.yMax) } ?? "-"
                let attributes = instance.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return "\(instance.label ?? "-") \(instance.kind.rawValue) \(b) \(attributes.joined(separator: ","))"
            }.sorted()
        }
        return view
    }

    @Test(arguments: [FolderExportFormat.voc, .yolo])
    func exportedFoldersImportBackTheSame(format: FolderExportFormat) async throws {
        try await withTemporaryStore { store, directory in
            switch format {
            case .voc: _ = try await Self.importVOC(Self.voc1, store)
            case .yolo: _ = try await Self.importYOLO(Self.yoloLoose, store)
            default: Issue.record("LabelMe's round trips are in LabelMeTests")
            }
            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let out = directory.appendingPathComponent("out").path
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let summary = try await FolderExporter(source: ExportSource(store: store, dataset: dataset), format: format)
                .write(into: out)
            #expect(summary.files == dataset.count)
            switch format {
            case .voc: _ = try await Self.importVOC(out, store, "again")
            case .yolo: _ = try await Self.importYOLO(out, store, "again")
            default: return
            }
            let before = try await Self.items(store, "D"), after = try await Self.items(store, "again")
            #expect(Self.view(after) == Self.view(before))
            #expect(after.map(\.file.media.sha256) == before.map(\.file.media.sha256), "the images travel with the export")
        }
    }

    @Test func exportNamesStayInsideTheFolderAndUnique() {
        var names = ExportNames()
        #expect(names.stem(for: "../../etc/passwd.jpg") == "__/__/etc/passwd")
        #expect(names.stem(for: "/abs/a.jpg") == "abs/a")
        #expect(names.stem(for: "abs/a.png") == "abs/a-2")
        #expect(names.stem(for: "") == "file")
    }
}
