/// PostgreSQL: `$n` placeholders, `jsonb` path operators, `strpos`. JSON documents are kept
/// as text (an item's bytes are the text as written, and `jsonb` would reorder its keys), so
/// a test casts them. Text compares in the "C" collation, byte order of UTF-8, as the
/// reference evaluator does: the store declares its text columns so, and JSON text is
/// compared with an explicit `COLLATE "C"`.
public struct PostgresDialect: SQLDialect {
    public init() {}

    public func placeholder(_ index: Int) -> String { "$\(index)" }

    /// A `text[]` literal of object keys, for `#>`: each key quoted, `"` and `\` escaped.
    static func path(_ keys: [String]) -> SQLValue {
        let quoted = keys.map { key in
            "\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return .text("{" + quoted.joined(separator: ",") + "}")
    }

    static func typeName(_ kind: ScalarKind) -> String {
        switch kind {
        case .number: "number"
        case .text: "string"
        case .bool: "boolean"
        }
    }

    /// The SQL value of a JSON scalar `element` (a `jsonb`) for comparing as `kind`.
    static func scalar(_ element: String, _ kind: ScalarKind) -> String {
        switch kind {
        case .number: "(\(element) #>> '{}')::float8"
        case .text: "((\(element) #>> '{}') COLLATE \"C\")"
        // Booleans compare as their JSON text, bound as 'true' or 'false' (`boolean(_:)`).
        case .bool: "(\(element) #>> '{}')"
        }
    }

    public func jsonValueTest(
        document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String
    ) -> String {
        let value = "((\(document))::jsonb #> \(binder.bind(Self.path(keys)))::text[])"
        // CASE, not AND: PostgreSQL may evaluate AND's operands in any order, and the cast in
        // the comparison fails on a value of another type. A missing key is NULL: not a match.
        return "(CASE WHEN jsonb_typeof(\(value)) = '\(Self.typeName(kind))' "
            + "THEN coalesce(\(compare(Self.scalar(value, kind))), false) ELSE false END)"
    }

    public func jsonAnyElementTest(
        document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String
    ) -> String {
        let value = "((\(document))::jsonb #> \(binder.bind(Self.path(keys)))::text[])"
        // As SQLite's json_each: an array's elements, an object's values, else the value itself.
        let elements = """
            jsonb_array_elements(CASE jsonb_typeof(\(value)) WHEN 'array' THEN \(value) \
            WHEN 'object' THEN (SELECT coalesce(jsonb_agg(o.value), '[]'::jsonb) FROM jsonb_each(\(value)) o) \
            ELSE jsonb_build_array(\(value)) END)
            """
        return "EXISTS (SELECT 1 FROM \(elements) j(e) WHERE CASE WHEN jsonb_typeof(j.e) = '\(Self.typeName(kind))' "
            + "THEN coalesce(\(compare(Self.scalar("j.e", kind))), false) ELSE false END)"
    }

    public func contains(_ haystack: String, _ needle: String) -> String { "strpos(\(haystack), \(needle)) > 0" }

    public func boolean(_ value: Bool) -> SQLValue { .text(value ? "true" : "false") }
}
