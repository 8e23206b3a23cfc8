import SluiceModel

/// One line of a Doccano JSONL export: a text and what was annotated on it. Doccano writes
/// three shapes, all read here:
///
/// - sequence labelling: `"label"` (or `"labels"`, Doccano 1.x) as `[[start, end, "LABEL"], …]`;
/// - text classification: `"label"` as `["positive", …]`, categories of the whole text;
/// - relation extraction: `"entities"` as `[{"id", "label", "start_offset", "end_offset"}]`
///   and `"relations"` as `[{"id", "from_id", "to_id", "type"}]`.
///
/// Offsets count Unicode scalars (Python `str` indices), end exclusive. `id` and every other
/// member (`meta`, `Comments`, a custom field) are kept as the file's metadata.
struct DoccanoDocument {
    struct Span {
        var start: Int
        var end: Int
        var label: String
        /// The entity's `id` in the relation form, which relations refer to.
        var entityID: JSONValue?
    }

    var text: String
    var spans: [Span] = []
    var categories: [String] = []
    /// The relation form's `relations`, as written (they name entity ids).
    var relations: [JSONValue]?
    /// Doccano's `id` of the document.
    var documentID: JSONValue?
    var metadata: [String: JSONValue] = [:]

    /// Members with a meaning of their own; any other is metadata.
    static let reserved: Set<String> = ["text", "label", "labels", "entities", "relations", "id"]

    /// Parses one line; a fault names the file, the line and the member.
    init(line: ArraySlice<UInt8>, number: Int, file: String) throws {
        func fail(_ path: String, _ message: String) -> ImportError {
            .invalid(file: file, line: number, path: path, message: message)
        }
        var reader = JSONReader(bytes: Array(line))
        let value: JSONValue
        do {
            value = try reader.readValue()
            guard try reader.next() == .end else { throw reader.error("more than one JSON value on the line") }
        } catch let error as JSONSyntaxError {
            throw fail("", "malformed JSON at column \(error.column): \(error.message)")
        }
        guard case .object(let members) = value else { throw fail("", "a line is a JSON object, got another value") }
        guard case .string(let text)? = members["text"] else { throw fail("text", "a document needs its text as a string") }
        self.text = text
        let length = text.unicodeScalars.count

        func offset(_ value: JSONValue?, _ path: String) throws -> Int {
            guard let number = value?.numberValue, let offset = Int(exactly: number) else {
                throw fail(path, "expected a whole number of characters")
            }
            return offset
        }
        func span(start: Int, end: Int, label: JSONValue?, path: String, labelPath: String) throws -> Span {
            guard 0 <= start, start < end else { throw fail(path, "needs 0 ≤ start < end, got [\(start), \(end)]") }
            guard end <= length else { throw fail(path, "ends at \(end), past the text's \(length) characters") }
            guard case .string(let name)? = label, !name.isEmpty else { throw fail(labelPath, "expected a label name") }
            return Span(start: start, end: end, label: name)
        }

        let labelKey = members["label"] != nil ? "label" : "labels"
        if members["label"] != nil, members["labels"] != nil {
            throw fail("labels", "both `label` and `labels`: a line has one of them")
        }
        if let list = members[labelKey], list != .null {
            guard case .array(let entries) = list else { throw fail(labelKey, "expected an array") }
            for (index, entry) in entries.enumerated() {
                let path = "\(labelKey)[\(index)]"
                switch entry {
                case .string(let category):
                    guard !category.isEmpty else { throw fail(path, "expected a label name") }
                    categories.append(category)
                case .array(let parts):
                    guard parts.count == 3 else { throw fail(path, "a span is [start, end, \"LABEL\"], got \(parts.count) members") }
                    spans.append(
                        try span(
                            start: try offset(parts[0], "\(path)[0]"), end: try offset(parts[1], "\(path)[1]"), label: parts[2],
                            path: path, labelPath: "\(path)[2]"))
                default:
                    throw fail(path, "expected a span [start, end, \"LABEL\"] or a category name")
                }
            }
        }
        var entityIDs: Set<JSONValue> = []
        if let list = members["entities"], list != .null {
            guard case .array(let entries) = list else { throw fail("entities", "expected an array") }
            for (index, entry) in entries.enumerated() {
                let path = "entities[\(index)]"
                guard case .object(let entity) = entry else { throw fail(path, "expected an object") }
                var found = try span(
                    start: try offset(entity["start_offset"], "\(path).start_offset"),
                    end: try offset(entity["end_offset"], "\(path).end_offset"), label: entity["label"], path: path,
                    labelPath: "\(path).label")
                if let id = entity["id"] {
                    guard entityIDs.insert(id).inserted else { throw fail("\(path).id", "another entity has this id") }
                    found.entityID = id
                }
                spans.append(found)
            }
        }
        if let list = members["relations"], list != .null {
            guard case .array(let entries) = list else { throw fail("relations", "expected an array") }
            for (index, entry) in entries.enumerated() {
                guard case .object(let relation) = entry else { throw fail("relations[\(index)]", "expected an object") }
                for end in ["from_id", "to_id"] {
                    guard let id = relation[end], entityIDs.contains(id) else {
                        throw fail("relations[\(index)].\(end)", "names no entity of this line")
                    }
                }
            }
            relations = entries
        }
        documentID = members["id"]
        for (key, value) in members where !Self.reserved.contains(key) { metadata[key] = value }
    }
}
