/// A comparison operator of the language.
public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case `in` = "in", contains = "contains"

    /// Whether ordering comparisons (`<`, `>`…) — only numbers, strings and dates have an order.
    var isOrdering: Bool { [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(self) }

    /// The operator that means the same with its sides swapped: `2 < x` is `x > 2`.
    var mirrored: ComparisonOperator {
        switch self {
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        case .equal, .notEqual, .in, .contains: self
        }
    }
}

/// A field of a file.
public enum FileField: String, Sendable, Hashable, CaseIterable {
    case id, type, name, width, height, size, mimeType = "mime_type", status, created, updated
    case frameCount = "frame_count", sha256

    /// Other spellings a query may use (the wire format's names).
    static let aliases: [String: FileField] = [
        "byte_size": .size, "created_at": .created, "updated_at": .updated, "mimetype": .mimeType,
    ]
}

/// What a comparison looks at.
public enum Field: Sendable, Hashable {
    /// `labels.<name>`: live instances of that label in the file.
    case label(String)
    /// `labels.any`: live labelled instances in the file.
    case anyLabel
    case file(FileField)
    /// `file.metadata.a.b`: a key path into the file's free JSON metadata.
    case fileMetadata([String])
    /// `attribute.<group>`: a value of that attribute group on any live instance of the file
    /// (file-level attributes live on the file's `global` instances).
    case attribute(String)
    /// `dataset.name`: the name of any dataset that holds the file.
    case datasetName
    /// `dataset.id`: the id of any dataset that holds the file (Diffgram's dataset filter).
    case datasetID
    /// `dataset.tag` (Diffgram: `dataset_tag.tag`): a tag of any dataset that holds the file.
    case datasetTag
    /// `frames.<name>`: the distinct video frames of the file that hold a live instance of that
    /// label; `frames.any` (nil): those holding any labelled instance.
    case frames(String?)
    /// `tracks.<name>`: the distinct tracks of that label in the file; `tracks.any` (nil): of
    /// any label.
    case tracks(String?)
}

/// A literal value in a query.
public enum Literal: Sendable, Hashable {
    case number(Double)
    case string(String)
    case bool(Bool)
    /// A date as written: `2024-05-01` or `2024-05-01T12:30:00Z`.
    case date(String)
    case list([Literal])
}

/// `field op value`, with the columns of its parts for the checker's errors.
public struct Comparison: Sendable, Hashable {
    public var field: Field
    public var op: ComparisonOperator
    public var value: Literal
    /// Column of the field's first character, of its name (after the entity) and of the value.
    public var fieldColumn: Int
    public var nameColumn: Int
    public var operatorColumn: Int
    public var valueColumn: Int
    /// Columns of the elements of a list value.
    public var elementColumns: [Int]

    // Two comparisons are the same query whatever their spacing: columns stay out of equality.
    public static func == (lhs: Comparison, rhs: Comparison) -> Bool {
        lhs.field == rhs.field && lhs.op == rhs.op && lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(field)
        hasher.combine(op)
        hasher.combine(value)
    }
}

/// The tree of `and`, `or`, `not` over comparisons.
public indirect enum Expression: Sendable, Hashable {
    case comparison(Comparison)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
}

/// A parsed query: its tree, and the text it was parsed from (for the excerpts of the
/// checker's errors). Two queries are equal when their trees are, whatever the spelling.
public struct Query: Sendable, Hashable {
    public var expression: Expression
    public var text: String

    public init(expression: Expression, text: String) {
        self.expression = expression
        self.text = text
    }

    public static func == (lhs: Query, rhs: Query) -> Bool { lhs.expression == rhs.expression }
    public func hash(into hasher: inout Hasher) { hasher.combine(expression) }
}
