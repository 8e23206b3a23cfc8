import Foundation
import SluiceModel
import SluiceStore

/// Pascal VOC out: one XML per file, the image beside it in `JPEGImages/`, subset lists and
/// the label map (with colours), so that VOC tools and `sluice import voc` read it back.
///
/// A file whose objects have masks also gets `SegmentationObject/ID.png` (object k's pixels
/// index k, in VOC's palette) and `SegmentationClass/ID.png` (each object's pixels the index of
/// its label's line in `labelmap.txt`, whose colours are the palette), `<segmented>1` and a line
/// in `ImageSets/Segmentation/SUBSET.txt`. Where masks overlap, the later object's pixel wins.
struct VOCWriter: FolderFormatWriter {
    let directory: String
    let labels: [Label]
    let media: MediaStore
    var names = ExportNames()
    var subsets: [String: [String]] = [:]
    /// Subset → ids of the files written with segmentation PNGs.
    var segmented: [String: [String]] = [:]
    var files = 0
    var instances = 0
    var skipped = 0
    /// The label map's lines: name and colour (`#rrggbb`, nil when unknown) in index order.
    let classes: [(name: String, color: String?)]
    /// The class index of pixels no object covers.
    let backgroundClass: Int
    /// Each of `classes`' colours as `r,g,b`, and the class PNGs' palette (256 RGB triples).
    let classColors: [String]
    let classPalette: [UInt8]

    /// Attributes VOC has elements of its own for.
    static let flags = ["difficult", "truncated", "occluded"]

    init(directory: String, labels: [Label], media: MediaStore) throws {
        self.directory = directory
        self.labels = labels
        self.media = media
        // Class index 0 is background, black: VOC's, and what Datumaro adds to a label map
        // without a black label. A project's own background (by name or colour) is kept as is.
        let own = labels.firstIndex { $0.name == "background" || Self.rgb($0.color) == "0,0,0" }
        classes = (own == nil ? [("background", "#000000")] : []) + labels.map { ($0.name, $0.color) }
        backgroundClass = own ?? 0
        // A label without a colour gets VOC's colour for its index, unless another label has
        // that colour: then the first VOC colour no label has.
        var used = Set(classes.compactMap { $0.color.map(Self.rgb) }.filter { !$0.isEmpty })
        var colors: [String] = []
        var palette = VOCPalette.plte
        for (index, entry) in classes.enumerated() {
            var rgb = entry.color.map(Self.rgb) ?? ""
            if rgb.isEmpty {
                let pick = ([index] + Array(0..<256)).first { $0 < 256 && !used.contains(Self.vocRGB($0)) } ?? index
                rgb = Self.vocRGB(min(pick, 255))
                used.insert(rgb)
            }
            colors.append(rgb)
            if index < 256 {
                palette.replaceSubrange((3 * index)..<(3 * index + 3), with: rgb.split(separator: ",").compactMap { UInt8($0) })
            }
        }
        classColors = colors
        classPalette = palette
    }

    static func vocRGB(_ index: Int) -> String {
        let c = VOCPalette.color(of: UInt8(index))
        return "\(c.red),\(c.green),\(c.blue)"
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
        // Mask instances (COCO's, LabelMe's) are objects too: their box and their mask.
        let boxes = item.instances.filter { ($0.kind == .box || $0.kind == .mask) && $0.bbox != nil && $0.label != nil }
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
        let written = objects + standalone
        let isSegmented = try writeSegmentation(of: written, file: file, stem: stem)
        xml += "  <segmented>\(isSegmented ? 1 : 0)</segmented>\n"
        for (index, object) in written.enumerated() {
            xml += Self.object(object, parts: parts[index + 1] ?? [])
        }
        xml += "</annotation>\n"
        try Self.write(xml, to: "\(directory)/Annotations/\(stem).xml")
        let subset: String = if case .string(let s)? = file.metadata["subset"], !s.isEmpty { s } else { "default" }
        subsets[Self.safeSubset(subset), default: []].append(stem)
        if isSegmented { segmented[Self.safeSubset(subset), default: []].append(stem) }
        files += 1
        instances += boxes.count
    }

    mutating func finish() throws {
        try FileManager.default.createDirectory(atPath: "\(directory)/ImageSets/Main", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(directory)/Annotations", withIntermediateDirectories: true)
        for (subset, ids) in subsets {
            try Self.write(ids.joined(separator: "\n") + "\n", to: "\(directory)/ImageSets/Main/\(subset).txt")
        }
        for (subset, ids) in segmented {
            try Self.write(ids.joined(separator: "\n") + "\n", to: "\(directory)/ImageSets/Segmentation/\(subset).txt")
        }
        var map = "# label:color_rgb:parts:actions\n"
        if segmented.isEmpty {
            for label in labels {
                map += "\(label.name.replacingOccurrences(of: ":", with: "_")):\(Self.rgb(label.color))::\n"
            }
        } else {
            // The class PNGs' indices are these lines, their colours these colours.
            for (entry, rgb) in zip(classes, classColors) {
                map += "\(entry.name.replacingOccurrences(of: ":", with: "_")):\(rgb)::\n"
            }
        }
        try Self.write(map, to: "\(directory)/labelmap.txt")
    }

    /// Writes the file's SegmentationObject and SegmentationClass PNGs when any of `objects`
    /// (the XML's, in order) has a mask; returns whether it did.
    mutating func writeSegmentation(of objects: [Instance], file: File, stem: String) throws -> Bool {
        let masked = objects.enumerated().compactMap { index, object in
            object.geometry.mask.flatMap(BinaryMask.init).map { (index: index + 1, object: object, mask: $0) }
        }
        guard let first = masked.first else { return false }
        let width = file.media.width ?? first.mask.width, height = file.media.height ?? first.mask.height
        var objectIndices = [UInt8](repeating: 0, count: width * height)
        var classIndices = [UInt8](repeating: 0, count: width * height)
        if backgroundClass != 0 {
            classIndices = [UInt8](repeating: UInt8(min(backgroundClass, 255)), count: width * height)
        }
        for (index, object, mask) in masked {
            guard (mask.width, mask.height) == (width, height) else {
                throw ExportError.missing(
                    file: file.name, what: "object \(index)'s mask is \(mask.width) × \(mask.height), the image \(width) × \(height)")
            }
            guard index < Int(VOCPalette.void) else {
                throw ExportError.missing(file: file.name, what: "object \(index) has a mask; a VOC object PNG indexes 254 objects")
            }
            let label = object.label ?? ""
            guard let classIndex = classes.firstIndex(where: { $0.name == label }), classIndex < Int(VOCPalette.void) else {
                throw ExportError.missing(file: file.name, what: "label '\(label)' is past the 254 classes a VOC class PNG indexes")
            }
            for pixel in 0..<(width * height) where mask.pixels[pixel] != 0 {
                objectIndices[pixel] = UInt8(index)
                classIndices[pixel] = UInt8(classIndex)
            }
        }
        for (folder, indices, palette) in [
            ("SegmentationObject", objectIndices, VOCPalette.plte), ("SegmentationClass", classIndices, classPalette),
        ] {
            let path = "\(directory)/\(folder)/\(stem).png"
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let png = MaskPNG.encodeIndexed(width: width, height: height, indices: indices, palette: palette)
            guard FileManager.default.createFile(atPath: path, contents: Data(png)) else { throw ExportError.unwritable(path) }
        }
        return true
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
