import SluiceModel

/// The names a query may use: a project's labels and attribute groups.
public struct QuerySchema: Sendable, Hashable {
    public var labels: [Label]
    public var attributeGroups: [AttributeGroup]

    public init(labels: [Label], attributeGroups: [AttributeGroup]) {
        self.labels = labels
        self.attributeGroups = attributeGroups
    }
}

/// A scalar a predicate compares with, after checking.
public enum Scalar: Sendable, Hashable {
    case number(Double)
    case text(String)
    case bool(Bool)
}

/// What a checked comparison tests: the left side resolved to something the store has.
public enum Subject: Sendable, Hashable {
    case labelCount(labelID: Int64)
    case anyLabelCount
    /// Distinct frames holding a live instance of the label (any labelled one when nil).
    case frameCount(labelID: Int64?)
    /// Distinct tracks of the label (of any label when nil).
    case trackCount(labelID: Int64?)
    case file(FileField)
    case fileMetadata([String])
    case attribute(String)
    case datasetName
    case datasetID
    case datasetTag
}

/// `op values` over one subject: `in` has any number of values, the others exactly one.
public struct Predicate: Sendable, Hashable {
    public var op: ComparisonOperator
    public var values: [Scalar]
}

/// A query whose names exist in the schema and whose values have the right types: ready to
/// compile to SQL or to evaluate over items.
public indirect enum CheckedQuery: Sendable, Hashable {
    case test(Subject, Predicate)
    case and(CheckedQuery, CheckedQuery)
    case or(CheckedQuery, CheckedQuery)
    case not(CheckedQuery)
}

extension Query {
    /// Resolves names against the schema and checks every value's type. Errors point at the
    /// unknown name (with the closest existing names) or at the value of the wrong type.
    public func checked(against schema: QuerySchema) throws(QueryError) -> CheckedQuery {
        try QueryChecker(schema: schema, text: text).check(expression)
    }
}

/// The kind of value a subject holds, which decides the literals and operators it accepts.
enum ValueKind {
    case count, number, text, bool, time
    /// An id: a whole number, compared by `=`, `!=` and `in` only.
    case identifier

    var noun: String {
        switch self {
        case .count, .number: "a number"
        case .identifier: "an id (a whole number)"
        case .text: "a string"
        case .bool: "true or false"
        case .time: "a date such as 2024-05-01 or 2024-05-01T12:30:00Z"
        }
    }
}

struct QueryChecker {
    let names: NameResolver
    let schema: QuerySchema
    let text: String

    init(schema: QuerySchema, text: String) {
        self.schema = schema
        self.text = text
        names = NameResolver(schema: schema)
    }

    func error(_ message: String, column: Int, suggestions: [String] = []) -> QueryError {
        QueryError(message, column: column, suggestions: suggestions, query: text)
    }

    func check(_ query: Expression) throws(QueryError) -> CheckedQuery {
        switch query {
        case .and(let l, let r): return .and(try check(l), try check(r))
        case .or(let l, let r): return .or(try check(l), try check(r))
        case .not(let q): return .not(try check(q))
        case .comparison(let c): return try check(c)
        }
    }

    func check(_ c: Comparison) throws(QueryError) -> CheckedQuery {
        let subject: Subject
        let kind: ValueKind
        var allowed: Set<String>? = nil
        switch c.field {
        case .label(let name):
            guard let label = names.label(named: name) else {
                throw error("unknown label \"\(name)\"", column: c.nameColumn,
                            suggestions: NameResolver.suggestions(for: name, in: schema.labels.map(\.name)))
            }
            subject = .labelCount(labelID: label.id)
            kind = .count
        case .anyLabel:
            (subject, kind) = (.anyLabelCount, .count)
        case .frames(let name), .tracks(let name):
            var labelID: Int64?
            if let name {
                guard let label = names.label(named: name) else {
                    throw error("unknown label \"\(name)\"", column: c.nameColumn,
                                suggestions: NameResolver.suggestions(for: name, in: schema.labels.map(\.name)))
                }
                labelID = label.id
            }
            if case .frames = c.field { subject = .frameCount(labelID: labelID) } else { subject = .trackCount(labelID: labelID) }
            kind = .count
        case .file(let field):
            subject = .file(field)
            switch field {
            case .id, .width, .height, .size, .frameCount: kind = .number
            case .name, .mimeType, .sha256: kind = .text
            case .created, .updated: kind = .time
            case .type:
                kind = .text
                allowed = Set(FileType.allCases.map(\.rawValue))
            case .status:
                kind = .text
                allowed = Set(AnnotationStatus.allCases.map(\.rawValue))
            }
        case .fileMetadata(let path):
            for key in path where key.contains("\"") {
                throw error("a metadata key cannot contain a double quote", column: c.nameColumn)
            }
            subject = .fileMetadata(path)
            // Free JSON: the value's own type says what it is compared with.
            kind = try Self.kind(of: c.value) ?? .number
        case .attribute(let name):
            guard let group = names.group(named: name) else {
                throw error("unknown attribute group \"\(name)\"", column: c.nameColumn,
                            suggestions: NameResolver.suggestions(for: name, in: schema.attributeGroups.map(\.name)))
            }
            if group.name.contains("\"") {
                throw error("an attribute name cannot contain a double quote", column: c.nameColumn)
            }
            // Instances key their values by the group's own name, not by how the query spelt it.
            subject = .attribute(group.name)
            switch group.kind {
            case .number: kind = .number
            case .boolean: kind = .bool
            case .select, .multiSelect, .text, .date: kind = .text
            }
            if group.kind == .select || group.kind == .multiSelect, !group.options.isEmpty {
                allowed = Set(group.options)
            }
        case .datasetName:
            (subject, kind) = (.datasetName, .text)
        case .datasetID:
            (subject, kind) = (.datasetID, .identifier)
        case .datasetTag:
            (subject, kind) = (.datasetTag, .text)
        }
        return try checkValue(c, subject: subject, kind: kind, allowed: allowed)
    }

    /// The kind of a metadata comparison, read off its literal.
    static func kind(of value: Literal) throws(QueryError) -> ValueKind? {
        switch value {
        case .number: .number
        case .string, .date: .text
        case .bool: .bool
        case .list(let elements): try elements.first.flatMap { v throws(QueryError) in try kind(of: v) }
        }
    }

    func checkValue(_ c: Comparison, subject: Subject, kind: ValueKind, allowed: Set<String>?) throws(QueryError) -> CheckedQuery {
        let what = describe(c.field)
        if c.op == .contains, kind != .text {
            throw error("contains needs a string field, but \(what) is \(kind == .count ? "a count" : kind.noun)",
                        column: c.operatorColumn)
        }
        if c.op.isOrdering, kind == .identifier {
            throw error("\(what) is an id: it has no order, use =, != or in", column: c.operatorColumn)
        }
        if c.op.isOrdering, kind == .bool {
            throw error("\(what) is true or false: it has no order, use = or !=", column: c.operatorColumn)
        }
        if c.op.isOrdering, allowed != nil {
            throw error("\(what) is one of a set of names: it has no order, use =, != or in", column: c.operatorColumn)
        }
        let literals: [(Literal, Int)]
        if case .list(let elements) = c.value {
            literals = Array(zip(elements, c.elementColumns))
        } else {
            literals = [(c.value, c.valueColumn)]
        }
        var values: [Scalar] = []
        for (literal, column) in literals {
            let scalar = try scalar(literal, kind: kind, column: column, what: what)
            if let allowed, case .text(let s) = scalar, !allowed.contains(s) {
                throw error("\(what) has no value \"\(s)\"", column: column,
                            suggestions: closestNames(to: s, in: allowed.sorted()))
            }
            values.append(scalar)
        }
        // A day compared with a time means the whole day: `file.created = 2024-05-01` is any
        // time that day, `> 2024-05-01` is from the next day on.
        if kind == .time, let day = c.value.dayText.flatMap(DateLiteral.dayStart) {
            let from = Scalar.number(Double(day))
            let end = Scalar.number(Double(day + 86_400_000))
            func test(_ op: ComparisonOperator, _ v: Scalar) -> CheckedQuery { .test(subject, Predicate(op: op, values: [v])) }
            switch c.op {
            case .equal: return .and(test(.greaterOrEqual, from), test(.less, end))
            case .notEqual: return .or(test(.less, from), test(.greaterOrEqual, end))
            case .lessOrEqual: return test(.less, end)
            case .greater: return test(.greaterOrEqual, end)
            default: break
            }
        }
        return .test(subject, Predicate(op: c.op, values: values))
    }

    func scalar(_ literal: Literal, kind: ValueKind, column: Int, what: String) throws(QueryError) -> Scalar {
        switch (kind, literal) {
        case (.count, .number(let n)), (.number, .number(let n)): return .number(n)
        case (.identifier, .number(let n)):
            guard n.rounded() == n else { throw error("\(what) is compared with \(kind.noun), not \(formatNumber(n))", column: column) }
            return .number(n)
        case (.text, .string(let s)), (.text, .date(let s)): return .text(s)
        case (.bool, .bool(let b)): return .bool(b)
        case (.time, .date(let s)), (.time, .string(let s)):
            guard let ms = DateLiteral.milliseconds(s) else {
                throw error("\"\(s)\" is not a date: write 2024-05-01 or 2024-05-01T12:30:00Z", column: column)
            }
            return .number(Double(ms))
        case (_, .list):
            throw error("a list is only a value after in", column: column)
        default:
            throw error("\(what) is compared with \(kind.noun), not \(describe(literal))", column: column)
        }
    }

    func describe(_ field: Field) -> String {
        switch field {
        case .label(let name): "labels.\(name)"
        case .anyLabel: "labels.any"
        case .file(let f): "file.\(f.rawValue)"
        case .fileMetadata(let path): "file.metadata.\(path.joined(separator: "."))"
        case .attribute(let name): "attribute.\(name)"
        case .datasetName: "dataset.name"
        case .datasetID: "dataset.id"
        case .datasetTag: "dataset.tag"
        case .frames(let name): "frames.\(name ?? "any")"
        case .tracks(let name): "tracks.\(name ?? "any")"
        }
    }

    func describe(_ literal: Literal) -> String {
        switch literal {
        case .number: "a number"
        case .string: "a string"
        case .bool: "a boolean"
        case .date: "a date"
        case .list: "a list"
        }
    }
}

/// Dates in queries, always UTC.
enum DateLiteral {
    /// Milliseconds since 1970 of `YYYY-MM-DD` (midnight) or `YYYY-MM-DDTHH:MM[:SS[.fff]][Z]`.
    static func milliseconds(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= u.count else { return nil }
            var v: Int64 = 0
            for b in u[from..<(from + count)] {
                guard b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int64(b - 48)
            }
            return v
        }
        guard u.count >= 10, u[4] == 45, u[7] == 45, let y = num(0, 4), let m = num(5, 2), let d = num(8, 2),
              (1...12).contains(m), (1...daysIn(month: m, year: y)).contains(d) else { return nil }
        var ms = days(year: y, month: m, day: d) * 86_400_000
        if u.count == 10 { return ms }
        guard u[10] == 84, let h = num(11, 2), u.count >= 16, u[13] == 58, let mi = num(14, 2), h < 24, mi < 60 else { return nil }
        ms += h * 3_600_000 + mi * 60_000
        var i = 16
        if i < u.count, u[i] == 58 {
            guard let s = num(i + 1, 2), s < 60 else { return nil }
            ms += s * 1000
            i += 3
            if i < u.count, u[i] == 46 {
                i += 1
                var scale: Int64 = 100
                let first = i
                while i < u.count, u[i] >= 48, u[i] <= 57 {
                    ms += Int64(u[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > first else { return nil }
            }
        }
        if i < u.count, u[i] == 90 { i += 1 }
        return i == u.count ? ms : nil
    }

    /// The day's first millisecond when the literal is a day without a time.
    static func dayStart(_ text: String) -> Int64? {
        text.utf8.count == 10 ? milliseconds(text) : nil
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's days-from-civil).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension Literal {
    /// The text of a date or string literal.
    var dayText: String? {
        switch self {
        case .date(let d), .string(let d): d
        default: nil
        }
    }
}

extension CheckedQuery {
    /// Labels every matching file must have: those of the top-level conjuncts that a file
    /// without the label fails (`labels.cat > 0`, not `labels.cat < 2`). A store can start
    /// from the files of the rarest of them instead of reading the whole dataset.
    public var requiredLabels: [Int64] {
        switch self {
        case .and(let l, let r): return l.requiredLabels + r.requiredLabels
        case .test(.labelCount(let id), let predicate) where !predicate.holds(for: .number(0)): return [id]
        // A frame or a track of the label needs an instance of it.
        case .test(.frameCount(let id?), let predicate) where !predicate.holds(for: .number(0)): return [id]
        case .test(.trackCount(let id?), let predicate) where !predicate.holds(for: .number(0)): return [id]
        default: return []
        }
    }
}
