import Foundation
import SluiceModel
import SluiceStore

/// The labelme tool's JSON out: each image copied into the folder (by its name in the dataset)
/// and a `.json` beside it, with `imagePath` the image's name and `imageData` null, so that
/// labelme opens it and `sluice import labelme` reads it back.
///
/// Boxes are rectangles, polygons (one ring) polygons, a single point a point, lines lines (or
/// linestrips: more than two points, or `labelme_shape_type`), ellipses of equal radii circles;
/// boolean attributes the shape's `flags`. Other instances (masks, keypoints, cuboids, global
/// tags, rotated ellipses, several rings) are counted as skipped, as are non-boolean attributes'
/// values, which labelme has no place for.
struct LabelMeWriter: FolderFormatWriter {
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
        let stem = names.stem(for: file.name)
        let imageName = "\(stem).\(ExportNames.extensionOf(file.name, mimeType: file.media.mimeType))"
        _ = try Self.copyMedia(file.media, from: media, to: "\(directory)/\(imageName)")
        var shapes: [JSONValue] = []
        for instance in item.instances {
            guard let shape = Self.shape(instance) else {
                skipped += 1
                continue
            }
            shapes.append(shape)
        }
        var flags: [String: JSONValue] = [:]
        if case .object(let stored)? = file.metadata["labelme_flags"] {
            for (key, value) in stored { if case .bool = value { flags[key] = value } }
        }
        let document: JSONValue = .object([
            "version": .string("5.5.0"),
            "flags": .object(flags),
            "shapes": .array(shapes),
            "imagePath": .string((imageName as NSString).lastPathComponent),
            "imageData": .null,
            "imageWidth": file.media.width.map { .number(Double($0)) } ?? .null,
            "imageHeight": file.media.height.map { .number(Double($0)) } ?? .null,
        ])
        var output = JSONOutput()
        output.value(document)
        output.raw("\n")
        try Self.write(output.string, to: "\(directory)/\(stem).json")
        files += 1
        instances += shapes.count
    }

    mutating func finish() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The labelme shape of `instance`; nil when labelme has none for it.
    static func shape(_ instance: Instance) -> JSONValue? {
        guard let label = instance.label else { return nil }
        let type: String
        var points: [Point]
        let g = instance.geometry
        switch instance.kind {
        case .box:
            guard let b = instance.bbox else { return nil }
            type = "rectangle"
            points = [Point(x: b.xMin, y: b.yMin), Point(x: b.xMax, y: b.yMax)]
        case .polygon:
            guard let rings = g.polygon, rings.count == 1, rings[0].count >= 6 else { return nil }
            type = "polygon"
            points = stride(from: 0, to: rings[0].count - 1, by: 2).map { Point(x: rings[0][$0], y: rings[0][$0 + 1]) }
        case .point:
            guard let only = g.points, only.count == 1 else { return nil }
            type = "point"
            points = only
        case .line:
            guard let line = g.line, line.count >= 2 else { return nil }
            let strip = line.count > 2 || instance.metadata["labelme_shape_type"] == .string("linestrip")
            type = strip ? "linestrip" : "line"
            points = line
        case .ellipse:
            guard let e = g.ellipse, abs(e.radiusX - e.radiusY) <= 1e-9 * max(1, abs(e.radiusX)) else { return nil }
            type = "circle"
            points = [Point(x: e.centerX, y: e.centerY), Point(x: e.centerX + e.radiusX, y: e.centerY)]
        case .mask, .keypoints, .cuboid, .global, .span:
            return nil
        }
        var flags: [String: JSONValue] = [:]
        for (key, value) in instance.attributes { if case .bool = value { flags[key] = value } }
        var shape: [String: JSONValue] = [
            "label": .string(label),
            "points": .array(points.map { .array([.number($0.x), .number($0.y)]) }),
            "shape_type": .string(type),
            "group_id": .null,
            "flags": .object(flags),
            "description": .string(""),
            "mask": .null,
        ]
        if case .number(let group)? = instance.metadata["labelme_group_id"] { shape["group_id"] = .number(group) }
        if case .string(let text)? = instance.metadata["labelme_description"] { shape["description"] = .string(text) }
        return .object(shape)
    }
}
