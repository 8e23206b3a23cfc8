import Foundation
import SluiceModel
import SluiceStore

/// MIT LabelMe XML out, in the layout Datumaro's `label_me` reads and writes:
/// `Annotations/SUBSET/STEM.xml`, `Images/SUBSET/IMAGE`, `Masks/SUBSET/STEM_mask_ID.png`, the
/// subset being the file's `subset` metadata (none: the folder's top level).
///
/// Boxes are `<polygon>`s of four corners with `<type>bounding_box</type>`, polygons (one ring)
/// `<polygon>`s, masks `<segm>` with a PNG; `occluded` is `<occluded>yes|no</occluded>`, the
/// creator `<username>`, other attributes the `<attributes>` list. Objects are numbered from 0
/// in the order written and `labelme_hasparts`/`labelme_ispartof` renumbered with them; a
/// non-boolean `occluded` goes into `<attributes>`. Other kinds are counted as skipped.
struct LabelMeXMLWriter: FolderFormatWriter {
    let directory: String
    let media: MediaStore
    var names = ExportNames()
    var files = 0
    var instances = 0
    var skipped = 0

    init(directory: String, media: MediaStore) {
        self.directory = directory
        self.media = media
    }

    mutating func add(_ item: Item) throws {
        let file = item.file
        let subset: String? = if case .string(let s)? = file.metadata["subset"], !s.isEmpty { s } else { nil }
        let folder = subset.map { ExportNames.safeComponent($0) }
        let prefix = folder.map { "\($0)/" } ?? ""
        let stem = names.stem(for: prefix + (file.name as NSString).lastPathComponent)
        let base = String(stem.dropFirst(prefix.count))
        let imageName = "\(base).\(ExportNames.extensionOf(file.name, mimeType: file.media.mimeType))"
        _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/Images/\(prefix)\(imageName)")
        let written = item.instances.filter(Self.fits)
        skipped += item.instances.count - written.count
        // Old LabelMe ids → the ids written (0…), for <parts>.
        var ids: [Int: Int] = [:]
        for (index, instance) in written.enumerated() {
            if case .number(let id)? = instance.metadata["labelme_id"], ids[Int(id)] == nil { ids[Int(id)] = index }
        }
        func references(_ key: String, of instance: Instance) -> String {
            guard case .array(let values)? = instance.metadata[key] else { return "" }
            return values.compactMap { value -> String? in
                guard case .number(let id) = value, let new = ids[Int(id)] else { return nil }
                return String(new)
            }.joined(separator: ",")
        }
        var xml = "<annotation>\n  <filename>\(VOCWriter.escaped(imageName))</filename>\n"
        xml += "  <folder>\(VOCWriter.escaped(folder ?? ""))</folder>\n"
        xml += "  <source>\n    <sourceImage></sourceImage>\n    <sourceAnnotation>Sluice</sourceAnnotation>\n  </source>\n"
        if let width = file.media.width, let height = file.media.height {
            xml += "  <imagesize>\n    <nrows>\(height)</nrows>\n    <ncols>\(width)</ncols>\n  </imagesize>\n"
        }
        for (index, instance) in written.enumerated() {
            xml += "  <object>\n    <name>\(VOCWriter.escaped(instance.label ?? ""))</name>\n"
            xml += "    <deleted>0</deleted>\n    <verified>0</verified>\n"
            // Written only when the instance says: Datumaro reads no <occluded> as "no" too.
            if case .bool(let occluded)? = instance.attributes["occluded"] {
                xml += "    <occluded>\(occluded ? "yes" : "no")</occluded>\n"
            }
            xml += "    <date></date>\n    <id>\(index)</id>\n"
            xml += "    <parts>\n      <hasparts>\(references("labelme_hasparts", of: instance))</hasparts>\n"
            xml += "      <ispartof>\(references("labelme_ispartof", of: instance))</ispartof>\n    </parts>\n"
            let username = VOCWriter.escaped(instance.creator ?? "")
            switch instance.kind {
            case .box:
                let b = instance.bbox!
                xml += "    <type>bounding_box</type>\n"
                xml += Self.polygon([b.xMin, b.yMin, b.xMax, b.yMin, b.xMax, b.yMax, b.xMin, b.yMax], username: username)
            case .polygon:
                xml += Self.polygon(instance.geometry.polygon![0], username: username)
            default:
                let mask = BinaryMask(instance.geometry.mask!)!
                let maskName = "\(base)_mask_\(index).png"
                let path = "\(directory)/Masks/\(prefix)\(maskName)"
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: path, contents: Data(MaskPNG.encode(mask))) else {
                    throw ExportError.unwritable(path)
                }
                let b = mask.bounds ?? BoundingBox(xMin: 0, yMin: 0, xMax: 0, yMax: 0)
                xml += "    <segm>\n      <mask>\(VOCWriter.escaped(maskName))</mask>\n"
                xml += "      <box>\n        <xmin>\(VOCWriter.number(b.xMin))</xmin>\n        <ymin>\(VOCWriter.number(b.yMin))</ymin>\n"
                xml += "        <xmax>\(VOCWriter.number(b.xMax))</xmax>\n        <ymax>\(VOCWriter.number(b.yMax))</ymax>\n      </box>\n"
                xml += "      <username>\(username)</username>\n    </segm>\n"
            }
            xml += "    <attributes>\(VOCWriter.escaped(Self.attributes(instance.attributes)))</attributes>\n  </object>\n"
        }
        xml += "</annotation>\n"
        try Self.write(xml, to: "\(directory)/Annotations/\(stem).xml")
        files += 1
        instances += written.count
    }

    mutating func finish() throws {
        try FileManager.default.createDirectory(atPath: "\(directory)/Annotations", withIntermediateDirectories: true)
    }

    /// Whether LabelMe XML holds `instance`: a box, a one-ring polygon, or a mask that decodes.
    static func fits(_ instance: Instance) -> Bool {
        switch instance.kind {
        case .box: instance.bbox != nil
        case .polygon: instance.geometry.polygon?.count == 1 && (instance.geometry.polygon?[0].count ?? 0) >= 6
        case .mask: instance.geometry.mask.flatMap(BinaryMask.init) != nil
        default: false
        }
    }

    static func polygon(_ flat: [Double], username: String) -> String {
        var xml = "    <polygon>\n"
        for i in stride(from: 0, to: flat.count - 1, by: 2) {
            xml += "      <pt>\n        <x>\(VOCWriter.number(flat[i]))</x>\n        <y>\(VOCWriter.number(flat[i + 1]))</y>\n      </pt>\n"
        }
        return xml + "      <username>\(username)</username>\n    </polygon>\n"
    }

    /// The `<attributes>` list as Datumaro writes it: `name=value` joined by `, `, with `\`
    /// escapes; a string that would read as a number or a boolean quoted. `occluded` has its
    /// own element.
    static func attributes(_ attributes: [String: JSONValue]) -> String {
        func escape(_ text: String) -> String {
            var out = ""
            for character in text {
                if "\\=\",".contains(character) { out.append("\\") }
                out.append(character)
            }
            return out
        }
        var list: [String] = []
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            if key == "occluded", case .bool = value { continue }
            let text: String
            switch value {
            case .bool(let on): text = on ? "true" : "false"
            case .number(let n):
                text = n.rounded() == n && abs(n) < 9e15 ? String(Int64(n)) : LabelMeXMLAnnotation.pythonFloat(n)
            case .string(let s):
                let lowered = s.lowercased()
                text = LabelMeXMLAnnotation.number(s) != nil || lowered == "true" || lowered == "false" ? "\"\(s)\"" : escape(s)
            default: continue
            }
            list.append("\(escape(key))=\(text)")
        }
        return list.joined(separator: ", ")
    }
}
