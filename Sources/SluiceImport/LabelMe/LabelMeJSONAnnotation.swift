import Foundation
import SluiceModel

/// One `*.json` of the labelme tool (wkentaro/labelme), checked: every fault names the file,
/// the line and the JSON path (`shapes[2].points[1]`).
///
/// The schema is labelme's `LabelFile`: `version`, `flags` (image-level booleans), `shapes`
/// (each `label`, `points` [[x, y], …], `shape_type`, `group_id`, `flags`, `description`),
/// `imagePath` (relative to the JSON), `imageData` (the image, base64, or null), `imageHeight`,
/// `imageWidth`. Unknown members are skipped, as labelme's own `otherData`.
struct LabelMeJSONAnnotation: Sendable {
    enum ShapeType: String, CaseIterable, Sendable {
        case rectangle, polygon, point, line, linestrip, circle
    }

    struct Shape: Sendable {
        var label: String
        var type: ShapeType
        var points: [Point]
        var groupID: Int64?
        var flags: [String: JSONValue]
        var description: String?
    }

    var imagePath: String?
    /// The image's base64 text, as written (decoded only when there is no image file).
    var imageData: String?
    var width: Int?
    var height: Int?
    var flags: [String: JSONValue] = [:]
    var shapes: [Shape] = []
    /// Lines of members, for faults found after reading (`imagePath` refused, `imageData` not base64).
    var lines: [String: Int] = [:]

    /// Reads `bytes`; faults name `file`.
    init(bytes: [UInt8], file: String) throws {
        var reader = JSONReader(bytes: bytes)
        do {
            try Self.read(&reader, into: &self)
            guard try reader.next() == .end else { throw reader.malformed("", "one JSON object") }
        } catch ImportError.malformed(let path, let expected, let line) {
            throw ImportError.invalid(file: file, line: line, path: path, message: "expected \(expected)")
        } catch ImportError.syntax(let error) {
            throw ImportError.invalid(file: file, line: error.line, path: "", message: "malformed JSON: \(error.message)")
        } catch let error as JSONSyntaxError {
            throw ImportError.invalid(file: file, line: error.line, path: "", message: "malformed JSON: \(error.message)")
        } catch ImportError.invalid(_, let line, let path, let message) {
            throw ImportError.invalid(file: file, line: line, path: path, message: message)
        }
    }

    private static func read(_ reader: inout JSONReader, into annotation: inout LabelMeJSONAnnotation) throws {
        var sawShapes = false
        try reader.readObject(at: "") { reader, key in
            annotation.lines[key] = reader.line
            switch key {
            case "shapes":
                sawShapes = true
                try reader.readArray(at: "shapes") { reader, index in
                    annotation.shapes.append(try shape(&reader, at: "shapes[\(index)]"))
                }
            case "flags": annotation.flags = try flags(&reader, at: "flags")
            case "imagePath": annotation.imagePath = try reader.readOptionalString(at: "imagePath")
            case "imageData": annotation.imageData = try reader.readOptionalString(at: "imageData")
            case "imageWidth": annotation.width = try size(&reader, at: "imageWidth")
            case "imageHeight": annotation.height = try size(&reader, at: "imageHeight")
            default: try reader.skipAnyValue(at: key)
            }
        }
        guard sawShapes else { throw reader.malformed("shapes", "a labelme file's `shapes` array") }
    }

    private static func size(_ reader: inout JSONReader, at path: String) throws -> Int? {
        guard let value = try reader.readOptionalNumber(at: path) else { return nil }
        guard value >= 0, value.rounded() == value, value < 1e9 else { throw reader.malformed(path, "a whole number ≥ 0") }
        return Int(value)
    }

    /// A `flags` object: names to booleans (labelme's check boxes).
    private static func flags(_ reader: inout JSONReader, at path: String) throws -> [String: JSONValue] {
        let first = try reader.nextValueToken(at: path)
        if first == .null { return [:] }
        reader.lookahead = first
        var flags: [String: JSONValue] = [:]
        try reader.readObject(at: path) { reader, key in
            guard case .bool(let on) = try reader.nextValueToken(at: "\(path).\(key)") else {
                throw reader.malformed("\(path).\(key)", "true or false")
            }
            flags[key] = .bool(on)
        }
        return flags
    }

    private static func shape(_ reader: inout JSONReader, at path: String) throws -> Shape {
        let line = reader.line
        var label: String?
        var type: ShapeType = .polygon
        var points: [Point]?
        var shape = Shape(label: "", type: .polygon, points: [], groupID: nil, flags: [:], description: nil)
        try reader.readObject(at: path) { reader, key in
            let at = "\(path).\(key)"
            switch key {
            case "label": label = try reader.readString(at: at)
            case "shape_type":
                let typeLine = reader.line
                // labelme writes null for its default, a polygon.
                let name = try reader.readOptionalString(at: at) ?? "polygon"
                guard let known = ShapeType(rawValue: name) else {
                    throw ImportError.invalid(
                        file: "", line: typeLine, path: at,
                        message: "expected one of \(ShapeType.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
                }
                type = known
            case "points":
                var read: [Point] = []
                try reader.readArray(at: at) { reader, index in
                    let pair = try reader.readNumbers(at: "\(at)[\(index)]", expected: "a point [x, y]")
                    guard pair.count == 2, pair.allSatisfy(\.isFinite) else {
                        throw reader.malformed("\(at)[\(index)]", "a point [x, y]")
                    }
                    read.append(Point(x: pair[0], y: pair[1]))
                }
                points = read
            case "group_id":
                if let number = try reader.readOptionalNumber(at: at) {
                    guard number.rounded() == number, abs(number) < 9e15 else { throw reader.malformed(at, "an integer or null") }
                    shape.groupID = Int64(number)
                }
            case "flags": shape.flags = try flags(&reader, at: at)
            case "description": shape.description = try reader.readOptionalString(at: at).flatMap { $0.isEmpty ? nil : $0 }
            default: try reader.skipAnyValue(at: at)
            }
        }
        guard let label else { throw ImportError.invalid(file: "", line: line, path: "\(path).label", message: "missing") }
        guard let points else { throw ImportError.invalid(file: "", line: line, path: "\(path).points", message: "missing") }
        // labelme's own counts per shape type (`Shape.shape_type` checks in labelme/shape.py).
        let fits: Bool =
            switch type {
            case .rectangle, .circle, .line: points.count == 2
            case .point: points.count == 1
            case .linestrip: points.count >= 2
            case .polygon: points.count >= 3
            }
        guard fits else {
            throw ImportError.invalid(
                file: "", line: line, path: "\(path).points", message: "a \(type.rawValue) cannot have \(points.count) points")
        }
        shape.label = label
        shape.type = type
        shape.points = points
        return shape
    }
}
