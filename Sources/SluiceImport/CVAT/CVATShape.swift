import Foundation
import SluiceModel

/// What a CVAT XML's `<meta>` says that the import needs: the labels with their colours and
/// attribute types, and for a video task the frames it covers.
struct CVATMeta: Sendable {
    struct Label: Sendable {
        var name: String
        var color: String?
        /// Attribute name → CVAT `input_type` (`checkbox`, `number`, `select`, `radio`, `text`).
        var attributeTypes: [String: String]
        /// A skeleton's points, in the order of their labels (CVAT writes each as a `<label>`
        /// whose `<parent>` is the skeleton), and its edges as 1-based pairs of them (COCO's
        /// `skeleton`), from the `<svg>` CVAT keeps the drawing in. Nil for other labels.
        var keypointNames: [String]? = nil
        var skeleton: [[Int]]? = nil
    }

    var labels: [Label] = []
    /// A skeleton point's name → its attributes' CVAT input types.
    var pointAttributeTypes: [String: [String: String]] = [:]
    /// `annotation` (images) or `interpolation` (video).
    var mode: String?
    var startFrame = 0
    var stopFrame: Int?
    var frameStep = 1
    /// The video file the task was made from (`<source>`), as CVAT names it.
    var source: String?
    var originalSize: (width: Int, height: Int)?

    init() {}

    init(_ meta: XMLTreeElement, file: String) throws {
        // A task, a job or a project export: the labels are under whichever is there.
        let owner = meta.child("task") ?? meta.child("job") ?? meta.child("project")
        let labelOwners = [owner, owner?.child("labels") == nil ? meta.child("project") : nil].compactMap { $0 }
        var points: [String: [String]] = [:]
        var drawings: [String: String] = [:]
        for element in labelOwners.flatMap({ $0.child("labels")?.children("label") ?? [] }) {
            guard let name = element.child("name")?.text, !name.isEmpty else {
                throw ImportError.invalid(file: file, line: element.line, path: "meta/task/labels/label/name", message: "a label needs a name")
            }
            var types: [String: String] = [:]
            for attribute in element.child("attributes")?.children("attribute") ?? [] {
                if let attributeName = attribute.child("name")?.text {
                    types[attributeName] = attribute.child("input_type")?.trimmedText ?? "text"
                }
            }
            // A skeleton's point is a label of its own in CVAT, not one of the task's.
            if let parent = element.child("parent")?.trimmedText, !parent.isEmpty {
                points[parent, default: []].append(name)
                pointAttributeTypes[name] = types
                continue
            }
            if element.child("type")?.trimmedText == "skeleton" { drawings[name] = element.child("svg")?.text ?? "" }
            let color = element.child("color")?.trimmedText
            labels.append(Label(name: name, color: Self.isColor(color) ? color?.lowercased() : nil, attributeTypes: types))
        }
        for index in labels.indices {
            guard let svg = drawings[labels[index].name] else { continue }
            let names = points[labels[index].name] ?? []
            labels[index].keypointNames = names
            labels[index].skeleton = CVATSkeleton.edges(svg: svg, pointNames: names)
        }
        mode = owner?.child("mode")?.trimmedText
        func integer(_ name: String) throws -> Int? {
            guard let element = owner?.child(name), !element.trimmedText.isEmpty else { return nil }
            guard let value = Int(element.trimmedText), value >= 0 else {
                throw ImportError.invalid(
                    file: file, line: element.line, path: "meta/task/\(name)", message: "expected a frame number, got '\(element.trimmedText)'")
            }
            return value
        }
        startFrame = try integer("start_frame") ?? 0
        stopFrame = try integer("stop_frame")
        if let filter = owner?.child("frame_filter")?.trimmedText, filter.hasPrefix("step=") {
            guard let step = Int(filter.dropFirst(5)), step >= 1 else {
                throw ImportError.invalid(
                    file: file, line: owner?.child("frame_filter")?.line ?? 0, path: "meta/task/frame_filter",
                    message: "expected step=N with N ≥ 1, got '\(filter)'")
            }
            frameStep = step
        }
        let sourceText = meta.child("source")?.trimmedText
        source = sourceText?.isEmpty == false ? sourceText : nil
        if let size = owner?.child("original_size"), let w = Int(size.child("width")?.trimmedText ?? ""),
            let h = Int(size.child("height")?.trimmedText ?? ""), w > 0, h > 0
        {
            originalSize = (w, h)
        }
    }

    static func isColor(_ text: String?) -> Bool {
        guard let text, text.count == 7, text.hasPrefix("#") else { return false }
        return text.dropFirst().allSatisfy(\.isHexDigit)
    }

    func attributeType(label: String?, attribute: String) -> String? {
        labels.first { $0.name == label }?.attributeTypes[attribute] ?? label.flatMap { pointAttributeTypes[$0]?[attribute] }
    }

    /// The points of the skeleton label `name`, in order; nil when it is not a skeleton.
    func keypointNames(label name: String?) -> [String]? {
        labels.first { $0.name == name }?.keypointNames
    }
}

/// One CVAT shape (`box`, `polygon`, `polyline`, `points`, `ellipse`, `cuboid`, `mask`,
/// `skeleton`) or `tag`, read from its element: in an `<image>`, or one frame of a `<track>`.
struct CVATShape: Sendable {
    var kind: InstanceKind
    var geometry: Geometry
    var bbox: BoundingBox?
    /// A mask's pixel count; nil for the other kinds (the store measures them).
    var area: Double?
    var label: String?
    var attributes: [String: JSONValue]
    var metadata: [String: JSONValue]
    // In a track only.
    var frame: Int?
    var isOutside = false
    var isKeyframe = true

    /// The CVAT element names Sluice reads as shapes.
    static let shapeNames: Set<String> = ["box", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton", "tag"]

    /// `element` at `path` (such as `annotations/image[3]/box[2]`) in `file`; `label` is the
    /// track's when the element is a track's frame. `imageSize` is the image's (or the video
    /// frame's), which a mask needs.
    init(
        _ element: XMLTreeElement, path: String, file: String, label trackLabel: String?, meta: CVATMeta, inTrack: Bool,
        imageSize: (width: Int, height: Int)?
    ) throws {
        func fault(_ field: String, _ message: String) -> ImportError {
            .invalid(file: file, line: element.line, path: field.isEmpty ? path : "\(path)/@\(field)", message: message)
        }
        func number(_ name: String) throws -> Double {
            guard let text = element.attributes[name] else { throw fault(name, "is missing") }
            guard let value = Double(text.trimmed()), value.isFinite else {
                throw fault(name, "expected a number, got '\(text)'")
            }
            return value
        }
        func points(_ name: String = "points") throws -> [Point] {
            guard let text = element.attributes[name] else { throw fault(name, "is missing") }
            return try text.split(separator: ";").map { pair in
                let xy = pair.split(separator: ",").map { Double($0.trimmed()) }
                guard xy.count == 2, let x = xy[0], let y = xy[1], x.isFinite, y.isFinite else {
                    throw fault(name, "expected 'x,y;x,y;…', got '\(pair)'")
                }
                return Point(x: x, y: y)
            }
        }
        func flag(_ name: String) throws -> Bool {
            switch element.attributes[name]?.trimmed() {
            case nil, "0", "false", "False": false
            case "1", "true", "True": true
            case let other?: throw fault(name, "expected 0 or 1, got '\(other)'")
            }
        }
        guard Self.shapeNames.contains(element.name) else { throw fault("", "is not a CVAT shape") }
        label = trackLabel ?? element.attributes["label"].flatMap { $0.isEmpty ? nil : $0 }
        var metadata: [String: JSONValue] = [:]
        switch element.name {
        case "box":
            kind = .box
            let box = BoundingBox(xMin: try number("xtl"), yMin: try number("ytl"), xMax: try number("xbr"), yMax: try number("ybr"))
            guard box.xMin <= box.xMax, box.yMin <= box.yMax else { throw fault("xbr", "the box's corners are crossed") }
            geometry = Geometry()
            bbox = box
        case "polygon":
            kind = .polygon
            let ring = try points()
            guard ring.count >= 3 else { throw fault("points", "a polygon needs at least 3 points, got \(ring.count)") }
            geometry = Geometry(polygon: [ring.flatMap { [$0.x, $0.y] }])
        case "polyline":
            kind = .line
            let line = try points()
            guard line.count >= 2 else { throw fault("points", "a polyline needs at least 2 points, got \(line.count)") }
            geometry = Geometry(line: line)
        case "points":
            kind = .point
            let set = try points()
            guard !set.isEmpty else { throw fault("points", "needs at least one point") }
            geometry = Geometry(points: set)
        case "ellipse":
            kind = .ellipse
            geometry = Geometry(
                ellipse: Ellipse(centerX: try number("cx"), centerY: try number("cy"), radiusX: try number("rx"), radiusY: try number("ry")))
        case "cuboid":
            kind = .cuboid
            func corner(_ suffix: String, _ corner: String) throws -> Point {
                Point(x: try number("x\(corner)\(suffix)"), y: try number("y\(corner)\(suffix)"))
            }
            // Each face as CVAT lists its corners: top-left, bottom-left, top-right, bottom-right.
            let front = try ["tl", "bl", "tr", "br"].map { try corner("1", $0) }
            let back = try ["tl", "bl", "tr", "br"].map { try corner("2", $0) }
            geometry = Geometry(cuboid: Cuboid(front: front, back: back))
        case "mask":
            kind = .mask
            guard let imageSize else {
                throw fault("", "a mask needs its image's size: the <image>'s width and height, or the task's <original_size>")
            }
            let mask: (rle: RLEMask, bounds: BoundingBox?, area: Int)
            do throws(CVATMaskFault) {
                mask = try CVATMask(attributes: element.attributes).placed(imageWidth: imageSize.width, imageHeight: imageSize.height)
            } catch {
                throw fault(error.attribute, error.message)
            }
            geometry = Geometry(mask: mask.rle)
            bbox = mask.bounds
            area = Double(mask.area)
        case "skeleton":
            kind = .keypoints
            guard let names = meta.keypointNames(label: label) else {
                throw fault("label", "'\(label ?? "")' is not a skeleton label of <meta> (CVAT lists a skeleton's points there as labels with a <parent>)")
            }
            let points = try CVATSkeleton.points(of: element, path: path, file: file, names: names, meta: meta)
            geometry = Geometry(keypoints: points.keypoints)
            if !points.attributes.isEmpty { metadata["point_attributes"] = .object(points.attributes) }
        default:  // tag
            kind = .global
            geometry = Geometry()
        }
        if kind != .box, kind != .mask { bbox = geometry.bounds(for: kind) }
        var attributes: [String: JSONValue] = [:]
        for attribute in element.children("attribute") {
            guard let name = attribute.attributes["name"], !name.isEmpty else {
                throw ImportError.invalid(file: file, line: attribute.line, path: "\(path)/attribute", message: "an attribute needs a name")
            }
            attributes[name] = Self.typed(attribute.text, as: meta.attributeType(label: label, attribute: name))
        }
        if kind != .global {
            // CVAT marks a skeleton's points occluded, not the skeleton.
            if kind != .keypoints { attributes["occluded"] = .bool(try flag("occluded")) }
            if let text = element.attributes["z_order"], let z = Int(text), z != 0 { metadata["z_order"] = .number(Double(z)) }
            if let text = element.attributes["rotation"], let r = Double(text), r != 0, r.isFinite { metadata["rotation"] = .number(r) }
        }
        if let text = element.attributes["group_id"], let group = Int(text), group != 0 { metadata["group"] = .number(Double(group)) }
        if inTrack {
            guard let text = element.attributes["frame"], let frame = Int(text), frame >= 0 else {
                throw fault("frame", "expected a frame number, got '\(element.attributes["frame"] ?? "")'")
            }
            self.frame = frame
            isOutside = try flag("outside")
            isKeyframe = element.attributes["keyframe"] == nil ? true : try flag("keyframe")
        }
        self.attributes = attributes
        self.metadata = metadata
    }

    /// An attribute's text as the label's spec types it: `checkbox` a boolean, `number` a
    /// number, anything else (or undeclared) the text.
    static func typed(_ text: String, as type: String?) -> JSONValue {
        switch type {
        case "checkbox":
            switch text.trimmed().lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return .string(text)
            }
        case "number":
            return Double(text.trimmed()).map(JSONValue.number) ?? .string(text)
        default:
            return .string(text)
        }
    }
}
