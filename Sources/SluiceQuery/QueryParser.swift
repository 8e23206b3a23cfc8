/// Recursive descent over the tokens of one query:
///
///     query      = or
///     or         = and { "or" and }
///     and        = unary { "and" unary }
///     unary      = "not" unary | "(" or ")" | comparison
///     comparison = field ( op value | "in" "[" [ value { "," value } ] "]" | "contains" string )
///                | value op field
///     field      = "labels" "." name | "file" "." name { "." name }
///                | "attribute" "." name | "dataset" "." name | "dataset_tag" "." "tag"
///     name       = word | quoted string
///
/// Keywords are case-insensitive. Names after a dot are names even when they spell a keyword.
///
/// Diffgram's forms parse to the tree of Sluice's: `2 < labels.cat` is `labels.cat > 2`,
/// `file.sensor` (not a built-in field) is `file.metadata.sensor`, `dataset_tag.tag` is
/// `dataset.tag`. Names with underscores for spaces are resolved by the checker, which knows
/// the project's names.
public struct QueryParser {
    let tokens: [Token]
    let text: String
    var index = 0
    var depth = 0

    /// How deep parentheses and `not` may nest: enough for any real query, and a bound on
    /// the recursion for any input.
    static let maximumDepth = 64

    public static func parse(_ text: String) throws(QueryError) -> Query {
        var parser = QueryParser(tokens: try Lexer.tokens(text), text: text)
        if parser.current.kind == .end { throw parser.error("empty query: expected a comparison such as labels.cat > 0", at: parser.current) }
        let query = try parser.parseOr()
        guard parser.current.kind == .end else {
            throw parser.error("expected \"and\", \"or\" or the end of the query, found \(parser.current.quoted)", at: parser.current)
        }
        return Query(expression: query, text: text)
    }

    var current: Token { tokens[index] }

    func error(_ message: String, at token: Token, suggestions: [String] = []) -> QueryError {
        QueryError(message, column: token.column, suggestions: suggestions, query: text)
    }

    func isKeyword(_ keyword: String) -> Bool {
        if case .word(let w) = current.kind { return w.lowercased() == keyword }
        return false
    }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    mutating func parseOr() throws(QueryError) -> Expression {
        var left = try parseAnd()
        while isKeyword("or") {
            advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws(QueryError) -> Expression {
        var left = try parseUnary()
        while isKeyword("and") {
            advance()
            left = .and(left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws(QueryError) -> Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw error("the query nests more than \(Self.maximumDepth) levels deep", at: current)
        }
        if isKeyword("not") {
            advance()
            return .not(try parseUnary())
        }
        if current.kind == .leftParen {
            let open = current
            advance()
            let inner = try parseOr()
            guard current.kind == .rightParen else {
                if current.kind == .end { throw error("missing \")\" for the \"(\" at column \(open.column)", at: current) }
                throw error("expected \")\", found \(current.quoted)", at: current)
            }
            advance()
            return inner
        }
        return .comparison(try parseComparison())
    }

    static let entities = ["labels", "file", "attribute", "dataset", "dataset_tag", "frames", "tracks"]
    static let entityAliases = [
        "label": "labels", "attributes": "attribute", "directory": "dataset", "dataset_tags": "dataset_tag",
        "frame": "frames", "track": "tracks",
    ]
    static let datasetFields: [String: Field] = ["name": .datasetName, "id": .datasetID, "tag": .datasetTag, "tags": .datasetTag]

    mutating func name(after entity: String) throws(QueryError) -> (String, Token) {
        guard current.kind == .dot else {
            throw error("expected \".\" after \(entity), found \(current.quoted)", at: current)
        }
        advance()
        let token = current
        switch token.kind {
        case .word(let w): advance(); return (w, token)
        case .string(let s): advance(); return (s, token)
        default: throw error("expected a name after \"\(entity).\", found \(token.quoted)", at: token)
        }
    }

    mutating func parseField() throws(QueryError) -> (Field, Token, Token) {
        let start = current
        guard case .word(let word) = start.kind else {
            throw error("expected a field such as labels.<name> or file.width, found \(start.quoted)", at: start)
        }
        let lowered = word.lowercased()
        guard let entity = Self.entities.contains(lowered) ? lowered : Self.entityAliases[lowered] else {
            throw error("unknown entity \"\(word)\"", at: start,
                        suggestions: closestNames(to: word, in: Self.entities))
        }
        advance()
        let (name, nameToken) = try name(after: entity)
        switch entity {
        case "labels":
            if case .word = nameToken.kind, name.lowercased() == "any" { return (.anyLabel, start, nameToken) }
            return (.label(name), start, nameToken)
        case "attribute":
            return (.attribute(name), start, nameToken)
        case "frames", "tracks":
            let label: String? = if case .word = nameToken.kind, name.lowercased() == "any" { nil } else { name }
            return (entity == "frames" ? .frames(label) : .tracks(label), start, nameToken)
        case "dataset":
            guard let field = Self.datasetFields[name.lowercased()] else {
                let fields = ["id", "name", "tag"]
                let close = closestNames(to: name, in: fields)
                throw error("unknown dataset field \"\(name)\"", at: nameToken, suggestions: close.isEmpty ? fields : close)
            }
            return (field, start, nameToken)
        case "dataset_tag":
            // Diffgram's tags of datasets: `dataset_tag.tag` is Sluice's `dataset.tag`.
            guard name.lowercased() == "tag" else {
                throw error("unknown dataset_tag field \"\(name)\"", at: nameToken, suggestions: ["tag"])
            }
            return (.datasetTag, start, nameToken)
        default:
            let lowered = name.lowercased()
            if lowered == "metadata" {
                var path: [String] = []
                while current.kind == .dot {
                    let (key, _) = try self.name(after: "file.metadata")
                    path.append(key)
                }
                guard !path.isEmpty else {
                    throw error("expected a key after file.metadata, as in file.metadata.camera", at: current)
                }
                return (.fileMetadata(path), start, nameToken)
            }
            if let field = FileField(rawValue: lowered) ?? FileField.aliases[lowered] {
                return (.file(field), start, nameToken)
            }
            // Diffgram: a key of a file that is no built-in field is a key of its metadata, so
            // `file.sensor` is `file.metadata.sensor` (and `file.camera.model` a key path).
            var path = [name]
            while current.kind == .dot {
                let (key, _) = try self.name(after: "file." + path.joined(separator: "."))
                path.append(key)
            }
            return (.fileMetadata(path), start, nameToken)
        }
    }

    /// Whether the current token is a value where a field was expected: Diffgram accepts the
    /// value on either side (`2 < labels.cat`).
    var atValue: Bool {
        switch current.kind {
        case .number, .string, .date: true
        case .word(let w): ["true", "false"].contains(w.lowercased())
        default: false
        }
    }

    /// `value op field`: the comparison with its sides swapped and the operator mirrored, so
    /// `2 < labels.cat` is the tree of `labels.cat > 2` (and prints so).
    mutating func parseValueFirstComparison() throws(QueryError) -> Comparison {
        let valueToken = current
        let value = try parseScalar()
        let operatorToken = current
        guard case .comparison(let op) = current.kind else {
            if isKeyword("in") || isKeyword("contains") {
                throw error("with the value first only = != < <= > >= compare: write the field first for \(current.quoted)",
                            at: current)
            }
            throw error("expected a comparison (= != < <= > >=) after the value, found \(current.quoted)", at: current)
        }
        advance()
        if atValue {
            throw error("expected a field such as labels.<name> or file.width after \"\(op.rawValue)\", found \(current.quoted)",
                        at: current)
        }
        let (field, start, nameToken) = try parseField()
        return Comparison(
            field: field, op: op.mirrored, value: value, fieldColumn: start.column, nameColumn: nameToken.column,
            operatorColumn: operatorToken.column, valueColumn: valueToken.column, elementColumns: [])
    }

    mutating func parseComparison() throws(QueryError) -> Comparison {
        if atValue { return try parseValueFirstComparison() }
        let (field, start, nameToken) = try parseField()
        let operatorToken = current
        let op: ComparisonOperator
        switch current.kind {
        case .comparison(let o): op = o
        case .word(let w) where w.lowercased() == "in": op = .in
        case .word(let w) where w.lowercased() == "contains": op = .contains
        default:
            throw error("expected a comparison (= != < <= > >= in contains), found \(current.quoted)", at: current)
        }
        advance()
        let valueToken = current
        var elementColumns: [Int] = []
        let value: Literal
        if op == .in {
            guard current.kind == .leftBracket else {
                throw error("expected \"[\" to open the list after in, found \(current.quoted)", at: current)
            }
            advance()
            var elements: [Literal] = []
            while current.kind != .rightBracket {
                if !elements.isEmpty {
                    guard current.kind == .comma else {
                        throw error("expected \",\" or \"]\" in the list, found \(current.quoted)", at: current)
                    }
                    advance()
                }
                elementColumns.append(current.column)
                elements.append(try parseScalar())
            }
            advance()
            value = .list(elements)
        } else {
            value = try parseScalar()
        }
        return Comparison(
            field: field, op: op, value: value, fieldColumn: start.column, nameColumn: nameToken.column,
            operatorColumn: operatorToken.column, valueColumn: valueToken.column, elementColumns: elementColumns)
    }

    mutating func parseScalar() throws(QueryError) -> Literal {
        let token = current
        switch token.kind {
        case .number(let n): advance(); return .number(n)
        case .string(let s): advance(); return .string(s)
        case .date(let d): advance(); return .date(d)
        case .word(let w) where w.lowercased() == "true": advance(); return .bool(true)
        case .word(let w) where w.lowercased() == "false": advance(); return .bool(false)
        case .word(let w):
            throw error("expected a value, found the word \"\(w)\" (quote strings: \"\(w)\")", at: token)
        default:
            throw error("expected a value (a number, a \"string\", true, false or a date), found \(token.quoted)", at: token)
        }
    }
}
