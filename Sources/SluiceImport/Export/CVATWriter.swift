import Foundation
import SluiceModel
import SluiceStore

/// CVAT XML out (version 1.1): `annotations.xml` beside the media, as CVAT's "CVAT for images"
/// and "CVAT for video" exports lay it out, so CVAT, Datumaro and `sluice import cvat` read it.
///
/// Image files become `<image>` elements (media in `images/[SUBSET/]NAME`); the instances of a
/// video (a `video` file, or `frame` files) become `<track>`s, one per track id, a shape per
/// frame, with an `outside` shape wherever the object stops being visible before the task ends.
/// Attributes are declared on their labels with the type their values have (boolean →
/// `checkbox`, number → `number`, else `text`), so they read back typed. The elements are
/// written to a spool file as items arrive and put after the `<meta>` at the end, when the
/// declarations are known; tracks are written at the end, so their instances are held until then.
struct CVATWriter: FolderFormatWriter {
    let directory: String
    let labels: [Label]
    let media: MediaStore
    var files = 0
    var instances = 0
    var skipped = 0
    private var spool: FileHandle
    private let spoolPath: String
    private var namesBySubset: [String: ExportNames] = [:]
    /// Label → attribute → CVAT input type.
    private var attributeTypes: [String: [String: String]] = [:]
    /// A skeleton label's point → attribute → CVAT input type.
    private var pointAttributeTypes: [String: [String: [String: String]]] = [:]
    /// The points of each label whose instances are keypoints: its own names, or numbers when
    /// it has none (a CVAT skeleton needs a label per point).
    private var skeletonPoints: [String: [String]] = [:]
    private var tracks: [Int: (label: String?, shapes: [Instance])] = [:]
    private var video: (name: String, file: File)?
    private var frameNames: [Int: String] = [:]
    private var subsets: Set<String> = []
    private var hasImages = false
    private var imagesWithoutSubset = 0

    /// The subset given to images that have none when others have one: Datumaro reads an image
    /// without a subset into every subset of a project export.
    static let defaultSubset = "default"

    /// Attributes CVAT writes as a shape's own XML attributes, not as `<attribute>`s.
    static let ownAttributes: Set<String> = ["occluded", "keyframe"]

    init(directory: String, labels: [Label], media: MediaStore) throws {
        self.directory = directory
        self.labels = labels
        self.media = media
        for label in labels { skeletonPoints[label.name] = label.keypointNames }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        spoolPath = "\(directory)/.annotations.body"
        guard FileManager.default.createFile(atPath: spoolPath, contents: nil), let spool = FileHandle(forWritingAtPath: spoolPath)
        else { throw ExportError.unwritable(spoolPath) }
        self.spool = spool
    }

    mutating func add(_ item: Item) throws {
        let file = item.file
        files += 1
        switch file.type {
        case .video, .frame:
            try addVideoPart(item)
        default:
            try addImage(item)
        }
    }

    private mutating func addImage(_ item: Item) throws {
        guard video == nil, frameNames.isEmpty else { throw Self.mixed }
        hasImages = true
        let file = item.file
        let subset: String? = if case .string(let s)? = file.metadata["subset"], !s.isEmpty { s } else { nil }
        let folder = subset.map(Self.safeFolder)
        if let subset { subsets.insert(subset) }
        let stem = namesBySubset[folder ?? "", default: ExportNames()].stem(for: file.name)
        let name = "\(stem).\(ExportNames.extensionOf(file.name, mimeType: file.media.mimeType))"
        _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/images/\(folder.map { "\($0)/" } ?? "")\(name)")
        var xml = "  <image id=\"\(files - 1)\" name=\"\(VOCWriter.escaped(name))\""
        if let subset { xml += " subset=\"\(VOCWriter.escaped(subset))\"" } else { imagesWithoutSubset += 1 }
        if let width = file.media.width, let height = file.media.height { xml += " width=\"\(width)\" height=\"\(height)\"" }
        xml += ">\n"
        for instance in item.instances {
            guard let shape = shape(instance, indent: "    ", track: false) else {
                skipped += 1
                continue
            }
            xml += shape
            instances += 1
        }
        xml += "  </image>\n"
        try spool.write(contentsOf: Data(xml.utf8))
    }

    private mutating func addVideoPart(_ item: Item) throws {
        guard !hasImages else { throw Self.mixed }
        let file = item.file
        if file.type == .video {
            guard video == nil, frameNames.isEmpty else {
                throw ExportError.missing(
                    file: file.name,
                    what: "a CVAT for video XML holds one video: export a slice holding one (--query 'file.type = \"video\"' and a dataset per video)")
            }
            var names = ExportNames()
            let stem = names.stem(for: file.name)
            let ext = (file.name as NSString).pathExtension
            let name = !ext.isEmpty && ext.allSatisfy({ $0.isLetter || $0.isNumber }) ? "\(stem).\(ext.lowercased())" : stem
            _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/\(name)")
            video = (name, file)
        } else {
            guard video == nil else { throw Self.mixed }
            let frame = Self.integer(file.metadata["frame"]) ?? item.instances.compactMap(\.frame).first ?? frameNames.count
            let name = String(format: "frame_%06d", frame) + "." + ExportNames.extensionOf(file.name, mimeType: file.media.mimeType)
            _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/images/\(name)")
            frameNames[frame] = name
            firstFrameFile = firstFrameFile ?? file
        }
        for instance in item.instances {
            guard instance.kind != .global, instance.frame != nil else {
                skipped += 1
                continue
            }
            // A shape outside any track is a track of one frame, as CVAT dumps it.
            let id = instance.track ?? -Int(instance.id)
            tracks[id, default: (instance.label, [])].shapes.append(instance)
            instances += 1
        }
    }

    private var firstFrameFile: File?

    static let mixed = ExportError.missing(
        file: "the dataset", what: "CVAT XML holds either images or one video: export images and videos as separate slices")

    mutating func finish() throws {
        try spool.close()
        let source = video?.file ?? firstFrameFile
        let isVideo = source != nil
        let start = Self.integer(source?.metadata["start_frame"]) ?? 0
        let step = max(1, Self.integer(source?.metadata["frame_step"]) ?? 1)
        let lastFrame = tracks.values.flatMap { $0.shapes.compactMap(\.frame) }.max() ?? start
        let stop =
            Self.integer(source?.metadata["stop_frame"]) ?? video?.file.media.frameCount.map { $0 - 1 } ?? frameNames.keys.max()
            ?? lastFrame
        var trackXML = ""
        var nextID = (tracks.keys.filter { $0 >= 0 }.max() ?? -1) + 1
        for key in tracks.keys.sorted(by: { ($0 < 0 ? 1 : 0, abs($0)) < ($1 < 0 ? 1 : 0, abs($1)) }) {
            guard let track = tracks[key] else { continue }
            let id = key >= 0 ? key : nextID
            if key < 0 { nextID += 1 }
            trackXML += "  <track id=\"\(id)\" label=\"\(VOCWriter.escaped(track.label ?? ""))\">\n"
            let shapes = track.shapes.sorted { ($0.frame ?? 0) < ($1.frame ?? 0) }
            for (index, instance) in shapes.enumerated() {
                let frame = instance.frame ?? 0
                trackXML += shape(instance, indent: "    ", track: true, frame: frame, outside: false) ?? ""
                // The object leaves the view after this frame unless the next shape is on the next frame.
                let following = frame + step
                let nextFrame = index + 1 < shapes.count ? shapes[index + 1].frame : nil
                if nextFrame != following, following <= stop {
                    trackXML += shape(instance, indent: "    ", track: true, frame: following, outside: true) ?? ""
                }
            }
            trackXML += "  </track>\n"
        }
        var head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n"
        // Subsets make it a project export (CVAT's layout for them): a task per subset.
        let isProject = !subsets.isEmpty
        if isProject {
            if imagesWithoutSubset > 0 { subsets.insert(Self.defaultSubset) }
            head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <project>\n"
            head += "      <name>sluice</name>\n      <tasks>\n"
            for (index, subset) in subsets.sorted().enumerated() {
                let name = VOCWriter.escaped(subset)
                head += "        <task>\n          <id>\(index + 1)</id>\n          <name>\(name)</name>\n          <subset>\(name)</subset>\n        </task>\n"
            }
            head += "      </tasks>\n"
        }
        head += "      <mode>\(isVideo ? "interpolation" : "annotation")</mode>\n"
        if isVideo {
            head += "      <start_frame>\(start)</start_frame>\n      <stop_frame>\(stop)</stop_frame>\n"
            head += "      <frame_filter>\(step == 1 ? "" : "step=\(step)")</frame_filter>\n"
        }
        head += "      <labels>\n"
        for label in labels {
            let points = skeletonPoints[label.name]
            head += Self.labelXML(
                name: label.name, color: label.color, type: points == nil ? nil : "skeleton", attributes: attributeTypes[label.name],
                svg: points.map { CVATSkeleton.svg(names: $0, edges: label.skeleton ?? []) })
            // CVAT declares each point of a skeleton as a label whose parent it is.
            for name in points ?? [] {
                head += Self.labelXML(
                    name: name, color: label.color, type: "points", attributes: pointAttributeTypes[label.name]?[name], parent: label.name)
            }
        }
        head += "      </labels>\n"
        if !subsets.isEmpty { head += "      <subsets>\(subsets.sorted().map(VOCWriter.escaped).joined(separator: "\n"))</subsets>\n" }
        if let source, let width = source.media.width, let height = source.media.height {
            head += "      <original_size>\n        <width>\(width)</width>\n        <height>\(height)</height>\n      </original_size>\n"
        }
        head += isProject ? "    </project>\n" : "    </task>\n"
        if let video {
            head += "    <source>\(VOCWriter.escaped(video.name))</source>\n"
        } else if let video = Self.string(firstFrameFile?.metadata["video"]) {
            head += "    <source>\(VOCWriter.escaped(video))</source>\n"
        }
        head += "  </meta>\n"
        let path = "\(directory)/annotations.xml"
        guard FileManager.default.createFile(atPath: path, contents: Data(head.utf8)), let out = FileHandle(forWritingAtPath: path),
            let body = FileHandle(forReadingAtPath: spoolPath)
        else { throw ExportError.unwritable(path) }
        defer { try? out.close() }
        try out.seekToEnd()
        let fillSubset = isProject && imagesWithoutSubset > 0
        var pending = Data()
        while let chunk = try body.read(upToCount: 1 << 20), !chunk.isEmpty {
            guard fillSubset else {
                try out.write(contentsOf: chunk)
                continue
            }
            pending.append(chunk)
            guard let lastNewline = pending.lastIndex(of: 0x0A) else { continue }
            try out.write(contentsOf: Self.withDefaultSubset(pending[...lastNewline]))
            pending = Data(pending[(lastNewline + 1)...])
        }
        if !pending.isEmpty { try out.write(contentsOf: Self.withDefaultSubset(pending[...])) }
        try body.close()
        try out.write(contentsOf: Data((trackXML + "</annotations>\n").utf8))
        try FileManager.default.removeItem(atPath: spoolPath)
    }

    /// A `<label>` of `<meta>`, its attributes declared with their input types.
    static func labelXML(
        name: String, color: String, type: String?, attributes: [String: String]?, svg: String? = nil, parent: String? = nil
    ) -> String {
        var xml = "        <label>\n          <name>\(VOCWriter.escaped(name))</name>\n          <color>\(color)</color>\n"
        if let type { xml += "          <type>\(type)</type>\n" }
        xml += "          <attributes>\n"
        for (attribute, type) in (attributes ?? [:]).sorted(by: { $0.key < $1.key }) {
            xml += "            <attribute>\n              <name>\(VOCWriter.escaped(attribute))</name>\n"
            xml += "              <mutable>True</mutable>\n              <input_type>\(type)</input_type>\n"
            xml += "              <default_value>\(type == "checkbox" ? "false" : type == "number" ? "0" : "")</default_value>\n"
            xml += "              <values>\(type == "checkbox" ? "false\ntrue" : "")</values>\n            </attribute>\n"
        }
        xml += "          </attributes>\n"
        if let svg { xml += "          <svg>\(VOCWriter.escaped(svg))</svg>\n" }
        if let parent { xml += "          <parent>\(VOCWriter.escaped(parent))</parent>\n" }
        return xml + "        </label>\n"
    }

    /// `lines` with `subset="default"` added to each `<image>` start tag that has no subset
    /// (each is one line of its own, as `addImage` writes it).
    static func withDefaultSubset(_ lines: Data.SubSequence) -> Data {
        var out = Data()
        for line in lines.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(lines.last == 0x0A ? 1 : 0) {
            var text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("  <image "), !text.contains(" subset=\"") {
                text = text.replacingOccurrences(of: "  <image ", with: "  <image subset=\"\(defaultSubset)\" ")
            }
            out.append(contentsOf: Array(text.utf8) + [0x0A])
        }
        return out
    }

    /// One shape element; nil for a kind CVAT has no element for.
    private mutating func shape(_ instance: Instance, indent: String, track: Bool, frame: Int? = nil, outside: Bool = false)
        -> String?
    {
        let label = instance.label ?? ""
        let g = instance.geometry
        func points(_ list: [Point]) -> String { list.map { "\(VOCWriter.number($0.x)),\(VOCWriter.number($0.y))" }.joined(separator: ";") }
        func n(_ value: Double) -> String { VOCWriter.number(value) }
        var element: String
        var geometry: String
        var body = ""
        switch instance.kind {
        case .box:
            guard let b = instance.bbox else { return nil }
            (element, geometry) = ("box", "xtl=\"\(n(b.xMin))\" ytl=\"\(n(b.yMin))\" xbr=\"\(n(b.xMax))\" ybr=\"\(n(b.yMax))\"")
        case .polygon:
            guard let ring = g.polygon?.first, ring.count >= 6 else { return nil }
            let list = stride(from: 0, to: ring.count - 1, by: 2).map { Point(x: ring[$0], y: ring[$0 + 1]) }
            (element, geometry) = ("polygon", "points=\"\(points(list))\"")
        case .line:
            guard let line = g.line else { return nil }
            (element, geometry) = ("polyline", "points=\"\(points(line))\"")
        case .point:
            guard let list = g.points else { return nil }
            (element, geometry) = ("points", "points=\"\(points(list))\"")
        case .ellipse:
            guard let e = g.ellipse else { return nil }
            (element, geometry) = ("ellipse", "cx=\"\(n(e.centerX))\" cy=\"\(n(e.centerY))\" rx=\"\(n(e.radiusX))\" ry=\"\(n(e.radiusY))\"")
        case .cuboid:
            guard let c = g.cuboid, c.front.count == 4, c.back.count == 4 else { return nil }
            let corners = ["tl", "bl", "tr", "br"]
            geometry = (zip(corners, c.front).map { "x\($0)1=\"\(n($1.x))\" y\($0)1=\"\(n($1.y))\"" }
                + zip(corners, c.back).map { "x\($0)2=\"\(n($1.x))\" y\($0)2=\"\(n($1.y))\"" }).joined(separator: " ")
            element = "cuboid"
        case .global:
            guard !track else { return nil }
            (element, geometry) = ("tag", "")
        case .mask:
            // CVAT's box and runs of the whole-image COCO RLE kept here.
            guard let rle = g.mask, let pixels = BinaryMask(rle) else { return nil }
            (element, geometry) = ("mask", CVATMask(pixels).xmlAttributes)
        case .keypoints:
            // A skeleton's points are declared on its label: one without a label has none to name them.
            guard let keypoints = g.keypoints, !keypoints.isEmpty, instance.label != nil else { return nil }
            (element, geometry) = ("skeleton", "")
            body = skeletonXML(
                keypoints, label: label, attributes: instance.metadata["point_attributes"], indent: indent + "  ", frame: frame,
                outside: outside)
        case .span:
            return nil
        }
        var xml = "\(indent)<\(element)"
        if !track { xml += " label=\"\(VOCWriter.escaped(label))\"" }
        if let frame { xml += " frame=\"\(frame)\" outside=\"\(outside ? 1 : 0)\"" }
        if instance.kind != .global, instance.kind != .keypoints {
            xml += " occluded=\"\(instance.attributes["occluded"] == .bool(true) ? 1 : 0)\""
        }
        if track { xml += " keyframe=\"\(outside || instance.attributes["keyframe"] != .bool(false) ? 1 : 0)\"" }
        if !geometry.isEmpty { xml += " " + geometry }
        if instance.kind != .global { xml += " z_order=\"\(Self.integer(instance.metadata["z_order"]) ?? 0)\"" }
        if let rotation = instance.metadata["rotation"]?.numberValue { xml += " rotation=\"\(n(rotation))\"" }
        if let group = Self.integer(instance.metadata["group"]) { xml += " group_id=\"\(group)\"" }
        var children = ""
        for (name, value) in instance.attributes.sorted(by: { $0.key < $1.key }) where !Self.ownAttributes.contains(name) {
            let (text, type) = Self.attributeText(value)
            if attributeTypes[label, default: [:]][name] == nil || type == "text" { attributeTypes[label, default: [:]][name] = type }
            children += "\(indent)  <attribute name=\"\(VOCWriter.escaped(name))\">\(VOCWriter.escaped(text))</attribute>\n"
        }
        children = body + children
        return children.isEmpty ? xml + " />\n" : xml + ">\n" + children + "\(indent)</\(element)>\n"
    }

    /// A skeleton's `<points>`, one per point of its label: a point not placed (visibility 0)
    /// is `outside`, a hidden one (1) `occluded`.
    private mutating func skeletonXML(
        _ keypoints: [Keypoint], label: String, attributes: JSONValue?, indent: String, frame: Int?, outside: Bool
    ) -> String {
        var names = skeletonPoints[label] ?? []
        if names.count < keypoints.count {
            names += (names.count..<keypoints.count).map { "\($0 + 1)" }
            skeletonPoints[label] = names
        }
        let own: [String: JSONValue] = if case .object(let o)? = attributes { o } else { [:] }
        var xml = ""
        for (index, name) in names.enumerated() {
            let point = index < keypoints.count ? keypoints[index] : Keypoint(x: 0, y: 0, visibility: 0)
            xml += "\(indent)<points label=\"\(VOCWriter.escaped(name))\""
            if let frame { xml += " frame=\"\(frame)\" keyframe=\"1\"" }
            xml += " outside=\"\(outside || point.visibility == 0 ? 1 : 0)\" occluded=\"\(point.visibility == 1 ? 1 : 0)\""
            xml += " points=\"\(VOCWriter.number(point.x)),\(VOCWriter.number(point.y))\""
            guard case .object(let values)? = own[name], !values.isEmpty else {
                xml += " />\n"
                continue
            }
            xml += ">\n"
            for (attribute, value) in values.sorted(by: { $0.key < $1.key }) {
                let (text, type) = Self.attributeText(value)
                if pointAttributeTypes[label, default: [:]][name, default: [:]][attribute] == nil || type == "text" {
                    pointAttributeTypes[label, default: [:]][name, default: [:]][attribute] = type
                }
                xml += "\(indent)  <attribute name=\"\(VOCWriter.escaped(attribute))\">\(VOCWriter.escaped(text))</attribute>\n"
            }
            xml += "\(indent)</points>\n"
        }
        return xml
    }

    /// An attribute's value as CVAT text, with the input type that reads it back typed.
    static func attributeText(_ value: JSONValue) -> (text: String, type: String) {
        switch value {
        case .bool(let b): (b ? "true" : "false", "checkbox")
        case .number(let x): (VOCWriter.number(x), "number")
        case .string(let s): (s, "text")
        default: (String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self), "text")
        }
    }

    static func integer(_ value: JSONValue?) -> Int? {
        guard case .number(let n)? = value, n.rounded() == n, abs(n) < 1e15 else { return nil }
        return Int(n)
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
    }

    /// A subset as a folder name under `images/`.
    static func safeFolder(_ subset: String) -> String {
        let cleaned = String(subset.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return cleaned.isEmpty || cleaned == "-" ? "default" : cleaned
    }
}
