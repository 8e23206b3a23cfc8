import Foundation
import SluiceModel
import SluiceStore

/// YOLO out, in darknet's layout (what darknet, Datumaro and `sluice import yolo` read):
/// boxes as `class cx cy w h` and polygons as `class x1 y1 …`, fractions of the image's size;
/// files whose `subset` is val/valid go to the valid list, all others to train.
struct YOLOWriter: FolderFormatWriter {
    let directory: String
    let media: MediaStore
    let classes: [Int64: Int]
    let labelNames: [String]
    var names = ExportNames()
    var lists: [String: [String]] = [:]
    var files = 0
    var instances = 0
    var skipped = 0

    init(directory: String, labels: [Label], media: MediaStore) throws {
        self.directory = directory
        self.media = media
        labelNames = labels.map(\.name)
        classes = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element.id, $0.offset) })
    }

    mutating func add(_ item: Item) throws {
        let file = item.file
        let subset: String =
            if case .string(let s)? = file.metadata["subset"], ["val", "valid", "validation"].contains(s.lowercased()) {
                "valid"
            } else { "train" }
        let stem = names.stem(for: file.name)
        let imageName = "obj_\(subset)_data/\(stem).\(ExportNames.extensionOf(file.name, mimeType: file.media.mimeType))"
        _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/\(imageName)")
        var text = ""
        var written = 0
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
        try Self.write(text, to: "\(directory)/\((imageName as NSString).deletingPathExtension).txt")
        lists[subset, default: []].append("data/\(imageName)")
        files += 1
        instances += written
    }

    mutating func finish() throws {
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

    static func fraction(_ value: Double) -> String { String(format: "%.6f", value) }
}
