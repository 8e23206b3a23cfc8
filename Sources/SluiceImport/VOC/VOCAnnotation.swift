import SluiceModel

/// One `Annotations/*.xml` of a VOC folder, checked: every fault names the file, the line and
/// the element path (`annotation/object[2]/bndbox/xmin`).
struct VOCAnnotation: Sendable {
    struct Object: Sendable {
        var name: String
        var box: BoundingBox
        var attributes: [String: JSONValue]
        var parts: [(name: String, box: BoundingBox)]
    }

    var filename: String?
    var width: Int?
    var height: Int?
    var objects: [Object] = []

    init(_ root: XMLTreeElement, file: String) throws {
        func fault(_ element: XMLTreeElement, _ path: String, _ message: String) -> ImportError {
            .invalid(file: file, line: element.line, path: path, message: message)
        }
        guard root.name == "annotation" else { throw fault(root, root.name, "expected the root element <annotation>") }
        func number(_ parent: XMLTreeElement, _ name: String, _ path: String) throws -> Double {
            guard let element = parent.child(name) else { throw fault(parent, path, "missing <\(name)>") }
            guard let value = Double(element.trimmedText), value.isFinite else {
                throw fault(element, "\(path)/\(name)", "expected a number, got '\(element.trimmedText)'")
            }
            return value
        }
        func count(_ parent: XMLTreeElement, _ name: String, _ path: String) throws -> Int? {
            guard let element = parent.child(name) else { return nil }
            guard let value = Int(element.trimmedText), value >= 0 else {
                throw fault(element, "\(path)/\(name)", "expected a whole number ≥ 0, got '\(element.trimmedText)'")
            }
            return value
        }
        func box(_ parent: XMLTreeElement, _ path: String) throws -> BoundingBox {
            guard let bndbox = parent.child("bndbox") else { throw fault(parent, path, "missing <bndbox>") }
            let at = "\(path)/bndbox"
            let box = BoundingBox(
                xMin: try number(bndbox, "xmin", at), yMin: try number(bndbox, "ymin", at),
                xMax: try number(bndbox, "xmax", at), yMax: try number(bndbox, "ymax", at))
            guard box.xMax >= box.xMin, box.yMax >= box.yMin else {
                throw fault(bndbox, at, "xmax and ymax must not be less than xmin and ymin")
            }
            return box
        }
        func name(_ parent: XMLTreeElement, _ path: String) throws -> String {
            guard let element = parent.child("name"), !element.trimmedText.isEmpty else {
                throw fault(parent, path, "missing <name>")
            }
            return element.trimmedText
        }

        filename = root.child("filename").map(\.trimmedText).flatMap { $0.isEmpty ? nil : $0 }
        if let size = root.child("size") {
            width = try count(size, "width", "annotation/size")
            height = try count(size, "height", "annotation/size")
        }
        for (index, element) in root.children("object").enumerated() {
            let path = "annotation/object[\(index + 1)]"
            var attributes: [String: JSONValue] = [:]
            for flag in ["difficult", "truncated", "occluded"] {
                guard let value = element.child(flag) else { continue }
                switch value.trimmedText {
                case "1", "true": attributes[flag] = .bool(true)
                case "0", "false": attributes[flag] = .bool(false)
                default: throw fault(value, "\(path)/\(flag)", "expected 0 or 1, got '\(value.trimmedText)'")
                }
            }
            if let pose = element.child("pose")?.trimmedText, !pose.isEmpty { attributes["pose"] = .string(pose) }
            for action in element.child("actions")?.children ?? [] {
                attributes[action.name] = .bool(action.trimmedText == "1" || action.trimmedText == "true")
            }
            for (n, attribute) in (element.child("attributes")?.children("attribute") ?? []).enumerated() {
                let at = "\(path)/attributes/attribute[\(n + 1)]"
                guard let key = attribute.child("name")?.trimmedText, !key.isEmpty else {
                    throw fault(attribute, at, "missing <name>")
                }
                attributes[key] = Self.typed(attribute.child("value")?.trimmedText ?? "")
            }
            var parts: [(String, BoundingBox)] = []
            for (p, part) in element.children("part").enumerated() {
                let at = "\(path)/part[\(p + 1)]"
                parts.append((try name(part, at), try box(part, at)))
            }
            objects.append(
                Object(name: try name(element, path), box: try box(element, path), attributes: attributes, parts: parts))
        }
    }

    /// A free attribute's text as JSON: true/false and numbers as such, anything else a string.
    static func typed(_ text: String) -> JSONValue {
        switch text.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            if let number = Double(text), number.isFinite { return .number(number) }
            return .string(text)
        }
    }
}
