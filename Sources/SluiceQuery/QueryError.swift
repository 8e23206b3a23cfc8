/// A query the language rejects: what is wrong, where (1-based column), and for an unknown
/// name the closest names that exist.
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// 1-based column (in characters) of the fault in the query text.
    public var column: Int
    public var suggestions: [String]
    /// The query text, for the caret excerpt.
    public var query: String

    public init(_ message: String, column: Int, suggestions: [String] = [], query: String) {
        self.message = message
        self.column = column
        self.suggestions = suggestions
        self.query = query
    }

    /// The message, then the query with a caret under the fault:
    ///
    ///     column 8: unknown label "persn"; did you mean "person"?
    ///       labels.persn > 0
    ///              ^
    public var description: String {
        var hint = message
        if !suggestions.isEmpty {
            hint += "; did you mean " + suggestions.map { "\"\($0)\"" }.joined(separator: " or ") + "?"
        }
        // Control characters would break the excerpt's alignment: show them as spaces.
        let line = String(query.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        let caret = String(repeating: " ", count: max(0, column - 1)) + "^"
        return "column \(column): \(hint)\n  \(line)\n  \(caret)"
    }
}

/// Names within a small edit distance of `name`, closest first: what "did you mean" offers.
func closestNames(to name: String, in candidates: [String], limit: Int = 3) -> [String] {
    let target = Array(name.lowercased())
    let threshold = max(2, target.count / 3)
    let scored = candidates.compactMap { candidate -> (String, Int)? in
        let distance = editDistance(target, Array(candidate.lowercased()))
        return distance <= threshold ? (candidate, distance) : nil
    }
    return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(limit).map(\.0)
}

/// Levenshtein distance, two rows.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
