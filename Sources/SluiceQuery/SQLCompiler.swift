/// A value bound to a parameter of a compiled query: values never enter the SQL text.
public enum SQLValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
}

/// A `WHERE` condition over `files f` (and the dataset membership `df`), with its parameters
/// in placeholder order.
public struct CompiledQuery: Sendable, Hashable {
    public var whereClause: String
    public var parameters: [SQLValue]
    /// True when the condition reads the file's own row (`f.<column>`, `f.metadata`), beyond
    /// its id: a store may leave `files` out of the statement otherwise.
    public var readsFileRow: Bool

    public init(whereClause: String, parameters: [SQLValue], readsFileRow: Bool = true) {
        self.whereClause = whereClause
        self.parameters = parameters
        self.readsFileRow = readsFileRow
    }
}

/// Collects the parameters of one compiled query, numbering placeholders in text order.
public final class SQLBinder {
    let placeholder: (Int) -> String
    var nextIndex: Int
    public private(set) var parameters: [SQLValue] = []

    init(placeholder: @escaping (Int) -> String, firstIndex: Int) {
        self.placeholder = placeholder
        nextIndex = firstIndex
    }

    /// Binds a value and returns its placeholder.
    public func bind(_ value: SQLValue) -> String {
        parameters.append(value)
        defer { nextIndex += 1 }
        return placeholder(nextIndex)
    }
}

/// The SQL that differs between engines. The compiler writes the shape of every condition
/// (label counts as semi-joins, attributes as `EXISTS`, two-valued logic throughout); a
/// dialect spells placeholders, JSON access and substring tests. Dialects bind through the
/// binder in the order their text reads, so parameters line up with placeholders.
public protocol SQLDialect: Sendable {
    /// The placeholder of the parameter at 1-based `index`.
    func placeholder(_ index: Int) -> String
    /// A condition, never NULL: the JSON value at the object-key path `keys` in `document` is
    /// of `kind` and `compare` (given the SQL of that value) holds.
    func jsonValueTest(
        document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String) -> String
    /// A condition, never NULL: some element of the JSON value at `keys` in `document` (the
    /// value itself when it is not an array or object) is of `kind` and `compare` holds.
    func jsonAnyElementTest(
        document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String) -> String
    /// True when the text `needle` occurs in `haystack`, byte for byte.
    func contains(_ haystack: String, _ needle: String) -> String
    /// How a boolean compared with JSON booleans is bound.
    func boolean(_ value: Bool) -> SQLValue
}

/// The type of a compared value, for dialects that must test a JSON value's type.
public enum ScalarKind: Sendable, Hashable {
    case number, text, bool
}

/// SQLite: `?` placeholders, the JSON1 functions, `instr`. Text compares with the default
/// BINARY collation, byte order of UTF-8, as the reference evaluator does.
public struct SQLiteDialect: SQLDialect {
    public init() {}

    public func placeholder(_ index: Int) -> String { "?" }

    static func path(_ keys: [String]) -> SQLValue {
        .text("$" + keys.map { ".\"\($0)\"" }.joined())
    }

    static func typeTest(_ typeSQL: String, _ kind: ScalarKind) -> String {
        switch kind {
        case .number: "\(typeSQL) IN ('integer', 'real')"
        case .text: "\(typeSQL) = 'text'"
        case .bool: "\(typeSQL) IN ('true', 'false')"
        }
    }

    public func jsonValueTest(
        document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String
    ) -> String {
        // json_type is NULL for a missing key: read as '' so that the type test, and with it the
        // conjunction, is false, never NULL (a NULL would make `not` select nothing either).
        let type = Self.typeTest("coalesce(json_type(\(document), \(binder.bind(Self.path(keys)))), '')", kind)
        let value = "json_extract(\(document), \(binder.bind(Self.path(keys))))"
        return "(\(type) AND \(compare(value)))"
    }

    public func jsonAnyElementTest(
        document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String
    ) -> String {
        // json_each over a scalar yields the scalar itself: one test covers select and multi-select.
        let source = "json_each(\(document), \(binder.bind(Self.path(keys))))"
        return "EXISTS (SELECT 1 FROM \(source) j WHERE \(Self.typeTest("j.type", kind)) AND \(compare("j.value")))"
    }

    public func contains(_ haystack: String, _ needle: String) -> String { "instr(\(haystack), \(needle)) > 0" }

    public func boolean(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
}

extension CheckedQuery {
    /// The query as a `WHERE` condition over `files f`, the file's id read as `fileID` (a
    /// store that joins the file's place may give `df.file_id`, and leave `files` out when
    /// `readsFileRow` is false). Placeholders are numbered from `parameterOffset` (1-based)
    /// for dialects that number them.
    ///
    /// Every condition is two-valued (never NULL), so `not` is the exact complement: a file
    /// without a width is not `file.width > 0`, and is `not file.width > 0`.
    public func sql(dialect: some SQLDialect, parameterOffset: Int = 1, fileID: String = "f.id") -> CompiledQuery {
        let writer = SQLWriter(
            dialect: dialect, binder: SQLBinder(placeholder: dialect.placeholder, firstIndex: parameterOffset),
            fileID: fileID)
        let clause = writer.condition(self)
        return CompiledQuery(
            whereClause: clause, parameters: writer.binder.parameters, readsFileRow: writer.fileRow.isRead)
    }
}

struct SQLWriter<Dialect: SQLDialect> {
    let dialect: Dialect
    let binder: SQLBinder
    let fileID: String
    let fileRow = Use()

    /// Whether a part of the condition was written that reads it.
    final class Use {
        var isRead = false
    }

    func bind(_ scalar: Scalar) -> String {
        switch scalar {
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { return binder.bind(.integer(Int64(n))) }
            return binder.bind(.real(n))
        case .text(let s): return binder.bind(.text(s))
        case .bool(let b): return binder.bind(dialect.boolean(b))
        }
    }

    func condition(_ query: CheckedQuery) -> String {
        switch query {
        case .and(let l, let r): return "(\(condition(l)) AND \(condition(r)))"
        case .or(let l, let r): return "(\(condition(l)) OR \(condition(r)))"
        case .not(let q): return "NOT \(condition(q))"
        case .test(let subject, let predicate): return test(subject, predicate)
        }
    }

    /// `lhs op values`, binding the values in order.
    func compare(_ lhs: String, _ predicate: Predicate) -> String {
        switch predicate.op {
        case .in:
            guard !predicate.values.isEmpty else { return "1 = 0" }
            return "\(lhs) IN (\(predicate.values.map(bind).joined(separator: ", ")))"
        case .contains:
            return dialect.contains(lhs, bind(predicate.values[0]))
        case .notEqual:
            return "\(lhs) <> \(bind(predicate.values[0]))"
        default:
            return "\(lhs) \(predicate.op.rawValue) \(bind(predicate.values[0]))"
        }
    }

    func test(_ subject: Subject, _ predicate: Predicate) -> String {
        switch subject {
        case .labelCount(let labelID):
            // Files without the label have no row: when 0 passes the test, select the files
            // whose row fails it and take the rest. Either way an index range on
            // label_counts(label_id, count), never a scan of instances.
            let zeroPasses = predicate.holds(for: .number(0))
            let rows = "SELECT file_id FROM label_counts WHERE label_id = \(binder.bind(.integer(labelID))) AND "
            let count = compare("count", predicate)
            return zeroPasses ? "\(fileID) NOT IN (\(rows)NOT (\(count)))" : "\(fileID) IN (\(rows)\(count))"
        case .anyLabelCount:
            return compare("COALESCE((SELECT SUM(count) FROM label_counts WHERE file_id = \(fileID)), 0)", predicate)
        case .frameCount(let labelID), .trackCount(let labelID):
            // Counted per file from its instances (an index range on instances(file_id)): videos
            // hold few files and many instances, and a required label already narrowed the files.
            let column = if case .frameCount = subject { "i.frame" } else { "i.track" }
            let label = labelID.map { "i.label_id = \(binder.bind(.integer($0)))" } ?? "i.label_id IS NOT NULL"
            return compare(
                "(SELECT COUNT(DISTINCT \(column)) FROM instances i WHERE i.file_id = \(fileID) AND i.deleted = 0 "
                    + "AND \(column) IS NOT NULL AND \(label))", predicate)
        case .file(let field):
            fileRow.isRead = true
            let column = "f." + field.column
            let test = compare(column, predicate)
            return field.isNullable ? "(\(column) IS NOT NULL AND \(test))" : test
        case .fileMetadata(let keys):
            fileRow.isRead = true
            return dialect.jsonValueTest(document: "f.metadata", keys: keys, kind: predicate.kind, binder: binder) {
                compare($0, predicate)
            }
        case .attribute(let name):
            let element = dialect.jsonAnyElementTest(
                document: "i.attributes", keys: [name], kind: predicate.kind, binder: binder) { compare($0, predicate) }
            return "EXISTS (SELECT 1 FROM instances i WHERE i.file_id = \(fileID) AND i.deleted = 0 AND \(element))"
        case .datasetName:
            return "EXISTS (SELECT 1 FROM dataset_files m JOIN datasets d ON d.id = m.dataset_id "
                + "WHERE m.file_id = \(fileID) AND m.removed_at IS NULL AND \(compare("d.name", predicate)))"
        case .datasetID:
            return "EXISTS (SELECT 1 FROM dataset_files m "
                + "WHERE m.file_id = \(fileID) AND m.removed_at IS NULL AND \(compare("m.dataset_id", predicate)))"
        case .datasetTag:
            return "EXISTS (SELECT 1 FROM dataset_files m JOIN dataset_tags t ON t.dataset_id = m.dataset_id "
                + "WHERE m.file_id = \(fileID) AND m.removed_at IS NULL AND \(compare("t.tag", predicate)))"
        }
    }
}

extension Predicate {
    var kind: ScalarKind {
        switch values.first {
        case .text: .text
        case .bool: .bool
        case .number, nil: .number
        }
    }
}

extension FileField {
    /// The column of `files` that holds the field.
    var column: String {
        switch self {
        case .id: "id"
        case .type: "type"
        case .name: "name"
        case .width: "width"
        case .height: "height"
        case .size: "byte_size"
        case .mimeType: "mime_type"
        case .status: "status"
        case .created: "created_at"
        case .updated: "updated_at"
        case .frameCount: "frame_count"
        case .sha256: "sha256"
        }
    }

    var isNullable: Bool {
        switch self {
        case .width, .height, .size, .mimeType, .frameCount, .sha256: true
        case .id, .type, .name, .status, .created, .updated: false
        }
    }
}
