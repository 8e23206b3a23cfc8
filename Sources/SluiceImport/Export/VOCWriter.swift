import Foundation
import SluiceModel
import SluiceStore

/// Pascal VOC out: one XML per file, the image beside it in `JPEGImages/`, subset lists and
/// the label map (with colours), so that VOC tools and `sluice import voc` read it back.
struct VOCWriter: FolderFormatWriter {
    let directory: String
    let labels: [Label]
    let media: MediaStore
    var names = ExportNames()
    var subsets: [String: [String]] = [:]
    var files = 0
    var instances = 0
    var skipped = 0

    /// Attributes VOC has elements of its own for.
    static let flags = ["difficult", "truncated", "occluded"]

    init(directory: String, labels: [Label], media: MediaStore) throws {
        self.directory = directory
        self.labels = labels
        self.media = media
    }

    mutating func add(_ item: Item) throws {
        let file = item.file
        let stem = names.stem(for: file.name)
        let imageName = "\(stem).\(ExportNames.extensionOf(file.name, mimeType: file.media.mimeType))"
        _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/JPEGImages/\(imageName)")
        var xml = "<annotation>\n  <folder>JPEGImages</folder>\n  <filename>\(Self.escaped(imageName))</filename>\n"
        if let width = file.media.width, let height = file.media.height {
            xml += "  <size>\n    <width>\(width)</width>\n    <height>\(height)</height>\n    <depth>3</depth>\n  </size>\n"
        }
        xml += "  <segmented>0</segmented>\n"
        let boxes = item.instances.filter { $0.kind == .box && $0.bbox != nil && $0.label != nil }
        skipped += item.instances.count - boxes.count
        let objects = boxes.filter { $0.metadata["voc_part_of"] == nil }
        var parts: [Int: [Instance]] = [:]
        var standalone: [Instance] = []
        for instance in boxes where instance.metadata["voc_part_of"] != nil {
            if case .number(let n)? = instance.metadata["voc_part_of"], n >= 1, Int(n) <= objects.count {
                parts[Int(n), default: []].append(instance)
            } else {
                standalone.append(instance)
            }
        }
        for (index, object) in (objects + standalone).enumerated() {
            xml += Self.object(object, parts: parts[index + 1] ?? [])
        }
        xml += "</annotation>\n"
        try Self.write(xml, to: "\(directory)/Annotations/\(stem).xml")
        let subset: String = if case .string(let s)? = file.metadata["subset"], !s.isEmpty { s } else { "default" }
        subsets[Self.safeSubset(subset), default: []].append(stem)
        files += 1
        instances += boxes.count
    }

    mutating func finish() throws {
        try FileManager.default.createDirectory(atPath: "\(directory)/ImageSets/Main", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(directory)/Annotations", withIntermediateDirectories: true)
        for (subset, ids) in subsets {
            try Self.write(ids.joined(separator: "\n") + "\n", to: "\(directory)/ImageSets/Main/\(subset).txt")
        }
        var map = "# label:color_rgb:parts:actions\n"
        for label in labels {
            map += "\(label.name.replacingOccurrences(of: ":", with: "_")):\(Self.rgb(label.color))::\n"
        }
        try Self.write(map, to: "\(directory)/labelmap.txt")
    }

    static func object(_ instance: Instance, parts: [Instance]) -> String {
        var xml = "  <object>\n    <name>\(escaped(instance.label ?? ""))</name>\n"
        var free: [(String, String)] = []
        for (key, value) in instance.attributes.sorted(by: { $0.key < $1.key }) {
            switch (key, value) {
            case ("pose", .string(let pose)): xml += "    <pose>\(escaped(pose))</pose>\n"
            case (let flag, .bool(let on)) where flags.contains(flag): xml += "    <\(flag)>\(on ? 1 : 0)</\(flag)>\n"
            case (_, .bool(let on)): free.append((key, on ? "true" : "false"))
            case (_, .number(let n)): free.append((key, number(n)))
            case (_, .string(let s)): free.append((key, s))
            default: continue
            }
        }
        xml += box(instance.bbox!, indent: "    ")
        for part in parts {
            xml += "    <part>\n      <name>\(escaped(part.label ?? ""))</name>\n" + box(part.bbox!, indent: "      ") + "    </part>\n"
        }
        if !free.isEmpty {
            xml += "    <attributes>\n"
            for (key, value) in free {
                xml += "      <attribute>\n        <name>\(escaped(key))</name>\n        <value>\(escaped(value))</value>\n      </attribute>\n"
            }
            xml += "    </attributes>\n"
        }
        return xml + "  </object>\n"
    }

    static func box(_ b: BoundingBox, indent: String) -> String {
        "\(indent)<bndbox>\n\(indent)  <xmin>\(number(b.xMin))</xmin>\n\(indent)  <ymin>\(number(b.yMin))</ymin>\n"
            + "\(indent)  <xmax>\(number(b.xMax))</xmax>\n\(indent)  <ymax>\(number(b.yMax))</ymax>\n\(indent)</bndbox>\n"
    }

    /// Whole numbers without a fraction (VOC's pixels), others as Swift's shortest exact form.
    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A subset name as a list file name: `_` would read as a per-label list (`LABEL_SUBSET.txt`).
    static func safeSubset(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" })
    }

    static func rgb(_ color: String) -> String {
        let hex = color.hasPrefix("#") ? String(color.dropFirst()) : color
        guard hex.count == 6, let value = Int(hex, radix: 16) else { return "" }
        return "\(value >> 16 & 0xFF),\(value >> 8 & 0xFF),\(value & 0xFF)"
    }
}
