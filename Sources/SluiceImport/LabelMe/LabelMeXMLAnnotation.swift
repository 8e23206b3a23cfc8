import Foundation
import SluiceModel

/// One `Annotations/**/*.xml` of an MIT LabelMe folder, checked: every fault names the file,
/// the line and the element path (`annotation/object[3]/polygon/pt[2]/x`).
///
/// Read as Datumaro's `label_me` reads it: `<deleted>1</deleted>` objects are left out; a
/// `<polygon>` is a polygon, or a box when the object's `<type>` is `bounding_box`; a `<segm>`
/// names a mask image; `<attributes>` is a comma-separated list of `name=value` or bare flags
/// (with `\,` `\=` `\"` `\\` escapes); `<occluded>yes</occluded>` is the `occluded` flag.
struct LabelMeXMLAnnotation {
    enum Shape {
        case polygon([Double])
        case box(BoundingBox)
        /// The mask image's name, relative to the masks folder.
        case mask(String)
    }

    struct Object {
        var name: String
        /// The object's `<id>`, which `<hasparts>` and `<ispartof>` refer to.
        var id: Int?
        var shape: Shape
        var attributes: [String: JSONValue]
        var username: String?
        var hasParts: [Int]
        var isPartOf: [Int]
        /// The line of the object's element, for faults found later (a missing mask).
        var line: Int
    }

    var filename: String
    var folder: String?
    var width: Int?
    var height: Int?
    var objects: [Object] = []

    init(_ root: XMLTreeElement, file: String) throws {
        func fault(_ element: XMLTreeElement, _ path: String, _ message: String) -> ImportError {
            .invalid(file: file, line: element.line, path: path, message: message)
        }
        guard root.name == "annotation" else { throw fault(root, root.name, "expected the root element <annotation>") }
        guard let filename = root.child("filename")?.trimmedText, !filename.isEmpty else {
            throw fault(root, "annotation", "missing <filename>")
        }
        self.filename = filename
        folder = root.child("folder").map(\.trimmedText).flatMap { $0.isEmpty ? nil : $0 }
        func ids(_ element: XMLTreeElement?, _ path: String) throws -> [Int] {
            guard let element, !element.trimmedText.isEmpty else { return [] }
            return try element.trimmedText.split(separator: ",").map {
                guard let id = Int($0.trimmed()) else {
                    throw fault(element, path, "expected comma-separated object ids, got '\(element.trimmedText)'")
                }
                return id
            }
        }
        if let size = root.child("imagesize") {
            func count(_ name: String) throws -> Int? {
                guard let element = size.child(name), !element.trimmedText.isEmpty else { return nil }
                guard let value = Int(element.trimmedText), value >= 0 else {
                    throw fault(element, "annotation/imagesize/\(name)", "expected a whole number ≥ 0, got '\(element.trimmedText)'")
                }
                return value
            }
            height = try count("nrows")
            width = try count("ncols")
        }
        for (index, element) in root.children("object").enumerated() {
            let path = "annotation/object[\(index + 1)]"
            if let deleted = element.child("deleted"), !deleted.trimmedText.isEmpty {
                guard let flag = Int(deleted.trimmedText) else {
                    throw fault(deleted, "\(path)/deleted", "expected 0 or 1, got '\(deleted.trimmedText)'")
                }
                if flag != 0 { continue }
            }
            var id: Int?
            if let idElement = element.child("id"), !idElement.trimmedText.isEmpty {
                guard let value = Int(idElement.trimmedText) else {
                    throw fault(idElement, "\(path)/id", "expected a whole number, got '\(idElement.trimmedText)'")
                }
                id = value
            }
            var attributes: [String: JSONValue] = [:]
            if let text = element.child("attributes")?.text {
                for (key, value) in Self.attributes(text) { attributes[key] = value }
            }
            if let occluded = element.child("occluded"), !occluded.trimmedText.isEmpty {
                attributes["occluded"] = .bool(occluded.trimmedText == "yes")
            }
            let shape: Shape
            var username: String?
            if let polygon = element.child("polygon") {
                var points: [Double] = []
                for (n, pt) in polygon.children("pt").enumerated() {
                    // The path is spelled only for a fault: a box's four corners are eight numbers.
                    func coordinate(_ axis: String) throws -> Double {
                        guard let value = pt.child(axis) else {
                            throw fault(pt, "\(path)/polygon/pt[\(n + 1)]/\(axis)", "missing <\(axis)>")
                        }
                        let text = value.trimmedText
                        guard let number = Double(text), number.isFinite else {
                            throw fault(value, "\(path)/polygon/pt[\(n + 1)]/\(axis)", "expected a number, got '\(text)'")
                        }
                        return number
                    }
                    points.append(try coordinate("x"))
                    points.append(try coordinate("y"))
                }
                username = polygon.child("username")?.trimmedText
                if element.child("type")?.trimmedText == "bounding_box" {
                    let corners = stride(from: 0, to: points.count, by: 2).map { Point(x: points[$0], y: points[$0 + 1]) }
                    guard let box = BoundingBox(enclosing: corners) else {
                        throw fault(polygon, "\(path)/polygon", "a bounding box needs its corner points")
                    }
                    shape = .box(box)
                } else {
                    guard points.count >= 6 else {
                        throw fault(polygon, "\(path)/polygon", "a polygon needs at least 3 points, got \(points.count / 2)")
                    }
                    shape = .polygon(points)
                }
            } else if let segm = element.child("segm") {
                guard let mask = segm.child("mask")?.trimmedText, !mask.isEmpty else {
                    throw fault(segm, "\(path)/segm", "missing <mask>")
                }
                username = segm.child("username")?.trimmedText
                shape = .mask(mask)
            } else {
                throw fault(element, path, "an object needs a <polygon> or a <segm>")
            }
            let parts = element.child("parts")
            objects.append(
                Object(
                    name: element.child("name")?.trimmedText ?? "", id: id, shape: shape, attributes: attributes,
                    username: username.flatMap { $0.isEmpty ? nil : $0 },
                    hasParts: try ids(parts?.child("hasparts"), "\(path)/parts/hasparts"),
                    isPartOf: try ids(parts?.child("ispartof"), "\(path)/parts/ispartof"), line: element.line))
        }
    }

    /// Escapes in `<attributes>` text (Datumaro's `LabelMePath.ATTR_IMPORT_ESCAPES`): a backslash
    /// keeps `=`, `"`, `,` and itself from meaning what they mean in the list.
    static func attributes(_ text: String) -> [(String, JSONValue)] {
        // Split on unescaped commas (escapes kept), then on the first unescaped `=`, then drop them.
        var escaped = false
        var raw: [[Character]] = [[]]
        for character in text {
            if escaped {
                raw[raw.count - 1] += ["\\", character]
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                raw.append([])
            } else {
                raw[raw.count - 1].append(character)
            }
        }
        var parsed: [(String, JSONValue)] = []
        for field in raw {
            let trimmed = String(field).trimmed()
            guard !trimmed.isEmpty else { continue }
            // The first `=` not preceded by a backslash.
            var split: String.Index?
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                if trimmed[index] == "\\" {
                    index = trimmed.index(after: index)
                    if index < trimmed.endIndex { index = trimmed.index(after: index) }
                    continue
                }
                if trimmed[index] == "=" {
                    split = index
                    break
                }
                index = trimmed.index(after: index)
            }
            guard let split else {
                parsed.append((unescape(trimmed), .bool(true)))
                continue
            }
            let name = unescape(String(trimmed[..<split]))
            let value = String(trimmed[trimmed.index(after: split)...])
            if value.lowercased() == "true" || value.lowercased() == "false" {
                parsed.append((name, .bool(value.lowercased() == "true")))
            } else if value.count > 1, value.hasPrefix("\""), value.hasSuffix("\"") {
                parsed.append((name, .string(unescape(String(value.dropFirst().dropLast())))))
            } else if let number = Self.number(value) {
                parsed.append((name, .number(number)))
            } else {
                parsed.append((name, .string(unescape(value))))
            }
        }
        return parsed
    }

    /// A number as Datumaro casts one: only when it prints back as written (`3`, `0.5`, not `03`).
    static func number(_ text: String) -> Double? {
        if let integer = Int(text), String(integer) == text { return Double(integer) }
        if let double = Double(text), double.isFinite, pythonFloat(double) == text { return double }
        return nil
    }

    /// Python's `str(float)` for ordinary values: shortest round-trip digits, `.0` for whole ones.
    static func pythonFloat(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e16 ? String(format: "%.1f", value) : "\(value)"
    }

    static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped {
                out.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}
