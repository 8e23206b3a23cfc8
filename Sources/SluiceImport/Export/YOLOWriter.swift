import Foundation
import SluiceModel
import SluiceStore

/// YOLO out: boxes as `class cx cy w h` and polygons as `class x1 y1 …`, fractions of the
/// image's size, in one of two layouts (both read by Datumaro and `sluice import yolo`):
/// - darknet's: `obj.names`, `obj.data`, `train.txt`/`valid.txt`, each image and its label file
///   in `obj_train_data/` (files whose `subset` is val/valid go to the valid list);
/// - Ultralytics': `data.yaml`, `images/SUBSET/` and `labels/SUBSET/` for train, val and test
///   (what Ultralytics' trainers and its dataset checker read); Ultralytics reads a label file
///   as boxes or as segments, never both, so in a file with polygons boxes are written as the
///   polygons of their corners.
struct YOLOWriter: FolderFormatWriter {
    enum Layout: Sendable {
        case darknet, ultralytics
    }

    let directory: String
    let layout: Layout
    let media: MediaStore
    let classes: [Int64: Int]
    let labelNames: [String]
    var names = ExportNames()
    var lists: [String: [String]] = [:]
    var files = 0
    var instances = 0
    var skipped = 0

    init(directory: String, labels: [Label], media: MediaStore, layout: Layout = .darknet) throws {
        self.directory = directory
        self.layout = layout
        self.media = media
        labelNames = labels.map(\.name)
        classes = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element.id, $0.offset) })
    }

    mutating func add(_ item: Item) throws {
        let file = item.file
        let subset = Self.subset(of: file, layout: layout)
        let stem = names.stem(for: layout == .ultralytics ? Self.withoutSubsetFolder(file.name) : file.name)
        let ext = ExportNames.extensionOf(file.name, mimeType: file.media.mimeType)
        let imageName = layout == .darknet ? "obj_\(subset)_data/\(stem).\(ext)" : "images/\(subset)/\(stem).\(ext)"
        let labelName = layout == .darknet ? "obj_\(subset)_data/\(stem).txt" : "labels/\(subset)/\(stem).txt"
        _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/\(imageName)")
        var text = ""
        var written = 0
        let boxesAsSegments = layout == .ultralytics
            && item.instances.contains { $0.kind == .polygon && ($0.geometry.polygon?.first?.count ?? 0) >= 6 && $0.labelID.flatMap { classes[$0] } != nil }
        for instance in item.instances {
            guard let labelID = instance.labelID, let index = classes[labelID] else {
                skipped += 1
                continue
            }
            guard let width = file.media.width, let height = file.media.height, width > 0, height > 0 else {
                throw ExportError.missing(file: file.name, what: "the image size is unknown, and YOLO writes fractions of it")
            }
            let w = Double(width), h = Double(height)
            switch instance.kind {
            case .box where boxesAsSegments:
                // Ultralytics refuses a label file that mixes box rows and segment rows: in a
                // file with polygons, a box is written as the polygon of its four corners.
                guard let b = instance.bbox else { skipped += 1; continue }
                let corners = [b.xMin / w, b.yMin / h, b.xMax / w, b.yMin / h, b.xMax / w, b.yMax / h, b.xMin / w, b.yMax / h]
                text += "\(index) " + corners.map(Self.fraction).joined(separator: " ") + "\n"
            case .box:
                guard let b = instance.bbox else { skipped += 1; continue }
                let values = [(b.xMin + b.xMax) / 2 / w, (b.yMin + b.yMax) / 2 / h, (b.xMax - b.xMin) / w, (b.yMax - b.yMin) / h]
                text += "\(index) " + values.map(Self.fraction).joined(separator: " ") + "\n"
            case .polygon:
                guard let ring = instance.geometry.polygon?.first, ring.count >= 6 else { skipped += 1; continue }
                let values = ring.enumerated().map { $0.offset.isMultiple(of: 2) ? $0.element / w : $0.element / h }
                text += "\(index) " + values.map(Self.fraction).joined(separator: " ") + "\n"
            default:
                skipped += 1
                continue
            }
            written += 1
        }
        try Self.write(text, to: "\(directory)/\(labelName)")
        lists[subset, default: []].append("data/\(imageName)")
        files += 1
        instances += written
    }

    /// A name imported from Ultralytics' layout (`images/val/x.jpg`) without its `images/SUBSET/`:
    /// the export puts it back there, not in `images/val/images/val/`.
    static func withoutSubsetFolder(_ name: String) -> String {
        let parts = name.split(separator: "/")
        return parts.count >= 3 && parts[0] == "images" ? parts.dropFirst(2).joined(separator: "/") : name
    }

    /// darknet: train or valid; Ultralytics: train, val or test.
    static func subset(of file: File, layout: Layout) -> String {
        guard case .string(let s)? = file.metadata["subset"] else { return "train" }
        switch s.lowercased() {
        case "val", "valid", "validation": return layout == .darknet ? "valid" : "val"
        case "test" where layout == .ultralytics: return "test"
        default: return "train"
        }
    }

    mutating func finish() throws {
        if layout == .ultralytics { return try finishUltralytics() }
        try Self.write(labelNames.joined(separator: "\n") + "\n", to: "\(directory)/obj.names")
        var data = "classes = \(labelNames.count)\n"
        for subset in ["train", "valid"] {
            let list = lists[subset] ?? []
            guard !list.isEmpty || subset == "train" else { continue }
            try Self.write(list.joined(separator: "\n") + (list.isEmpty ? "" : "\n"), to: "\(directory)/\(subset).txt")
            data += "\(subset) = data/\(subset).txt\n"
        }
        data += "names = data/obj.names\nbackup = backup/\n"
        try Self.write(data, to: "\(directory)/obj.data")
    }

    /// `data.yaml` without `path`: Ultralytics then reads the folders beside the file. It needs a
    /// val set; a dataset with none is validated on its train images, as Ultralytics' own
    /// examples do.
    private func finishUltralytics() throws {
        var yaml = "# Ultralytics YOLO dataset, written by sluice export --format yolo-ultralytics\n"
        yaml += "train: images/train\n"
        yaml += "val: images/\(lists["val"] == nil ? "train" : "val")\n"
        if lists["test"] != nil { yaml += "test: images/test\n" }
        yaml += "nc: \(labelNames.count)\nnames:\n"
        for (index, name) in labelNames.enumerated() { yaml += "  \(index): \(Self.yamlString(name))\n" }
        try Self.write(yaml, to: "\(directory)/data.yaml")
    }

    /// A YAML double-quoted scalar: any label name reads back as itself.
    static func yamlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += String(format: "\\x%02X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func fraction(_ value: Double) -> String { String(format: "%.6f", value) }
}
