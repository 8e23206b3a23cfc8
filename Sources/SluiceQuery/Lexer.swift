/// One token of a query, with the 1-based column it starts at.
struct Token: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A bare word: an entity, a field, a name or a keyword (`and`, `in`, `true`…).
        case word(String)
        /// A double- or single-quoted string, escapes resolved.
        case string(String)
        case number(Double)
        /// `2024-05-01` or `2024-05-01T12:30:00Z`, as written.
        case date(String)
        case dot, comma, leftParen, rightParen, leftBracket, rightBracket
        case comparison(ComparisonOperator)
        case end
    }

    var kind: Kind
    var column: Int

    /// How the token reads in an error message.
    var quoted: String {
        switch kind {
        case .word(let w): "\"\(w)\""
        case .string(let s): "the string \"\(s)\""
        case .number: "a number"
        case .date(let d): "the date \(d)"
        case .dot: "\".\""
        case .comma: "\",\""
        case .leftParen: "\"(\""
        case .rightParen: "\")\""
        case .leftBracket: "\"[\""
        case .rightBracket: "\"]\""
        case .comparison(let op): "\"\(op.rawValue)\""
        case .end: "the end of the query"
        }
    }
}

/// Splits query text into tokens. Columns count characters, so the caret of an error lines up
/// under the text as a terminal shows it.
struct Lexer {
    let characters: [Character]
    let text: String
    var index = 0

    init(_ text: String) {
        self.text = text
        characters = Array(text)
    }

    static func tokens(_ text: String) throws(QueryError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    func error(_ message: String, at index: Int) -> QueryError {
        QueryError(message, column: index + 1, query: text)
    }

    func peek(_ offset: Int = 0) -> Character? {
        index + offset < characters.count ? characters[index + offset] : nil
    }

    static func isWordStart(_ c: Character) -> Bool { c.isLetter || c == "_" }
    static func isWordPart(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "-" }
    static func isDigit(_ c: Character?) -> Bool { c.map { $0.isASCII && $0.isNumber } ?? false }

    mutating func next() throws(QueryError) -> Token {
        while let c = peek(), c.isWhitespace { index += 1 }
        let start = index
        guard let c = peek() else { return Token(kind: .end, column: start + 1) }
        func single(_ kind: Token.Kind) -> Token {
            index += 1
            return Token(kind: kind, column: start + 1)
        }
        switch c {
        case "." where !Self.isDigit(peek(1)): return single(.dot)
        case ",": return single(.comma)
        case "(": return single(.leftParen)
        case ")": return single(.rightParen)
        case "[": return single(.leftBracket)
        case "]": return single(.rightBracket)
        case "=":
            index += peek(1) == "=" ? 2 : 1
            return Token(kind: .comparison(.equal), column: start + 1)
        case "!":
            guard peek(1) == "=" else { throw error("expected \"!=\"", at: start) }
            index += 2
            return Token(kind: .comparison(.notEqual), column: start + 1)
        case "<":
            if peek(1) == "=" { index += 2; return Token(kind: .comparison(.lessOrEqual), column: start + 1) }
            if peek(1) == ">" { index += 2; return Token(kind: .comparison(.notEqual), column: start + 1) }
            return single(.comparison(.less))
        case ">":
            if peek(1) == "=" { index += 2; return Token(kind: .comparison(.greaterOrEqual), column: start + 1) }
            return single(.comparison(.greater))
        default:
            // A quote with combining marks after it is one Character: a string still starts.
            if let quote = c.unicodeScalars.first, quote == "\"" || quote == "'" {
                return Token(kind: .string(try string(quote: quote)), column: start + 1)
            }
            if Self.isDigit(c) || (c == "-" && Self.isDigit(peek(1))) || (c == "." && Self.isDigit(peek(1))) {
                return try number()
            }
            if Self.isWordStart(c) {
                while let p = peek(), Self.isWordPart(p) { index += 1 }
                return Token(kind: .word(String(characters[start..<index])), column: start + 1)
            }
            throw error("unexpected character \"\(c)\"", at: start)
        }
    }

    /// A quoted string, read by Unicode scalars: a combining mark after a quote or after the
    /// letter of an escape (`\\n` then U+0613) is one Character with it, and must not hide
    /// the quote or the escape (found by scripts/fuzz.sh: the formatter's output of such a
    /// string did not parse).
    mutating func string(quote: Unicode.Scalar) throws(QueryError) -> String {
        let start = index
        var pending = characters[index].unicodeScalars.dropFirst()[...]
        index += 1
        var value = String.UnicodeScalarView()
        func next(_ lexer: inout Lexer) -> Unicode.Scalar? {
            if pending.isEmpty {
                guard let c = lexer.peek() else { return nil }
                lexer.index += 1
                pending = c.unicodeScalars[...]
            }
            return pending.popFirst()
        }
        while let scalar = next(&self) {
            if scalar == quote {
                guard pending.isEmpty else {
                    throw error("unexpected \"\(String(pending))\" after a string", at: index - 1)
                }
                return String(value)
            }
            if scalar == "\\" {
                guard let escaped = next(&self) else { break }
                switch escaped {
                case "n": value.append("\n")
                case "t": value.append("\t")
                case "\\", "\"", "'": value.append(escaped)
                default: throw error("unknown escape \"\\\(escaped)\" in a string", at: index - 1)
                }
            } else {
                value.append(scalar)
            }
        }
        throw error("unterminated string: no closing \(quote)", at: start)
    }

    /// A number (`3`, `-2.5`, `1e3`) or a date (`2024-05-01`, `2024-05-01T12:30:00Z`).
    mutating func number() throws(QueryError) -> Token {
        let start = index
        if let date = dateLiteral() { return Token(kind: .date(date), column: start + 1) }
        if peek() == "-" { index += 1 }
        while Self.isDigit(peek()) { index += 1 }
        if peek() == ".", Self.isDigit(peek(1)) {
            index += 1
            while Self.isDigit(peek()) { index += 1 }
        }
        if peek() == "e" || peek() == "E" {
            let mark = index
            index += 1
            if peek() == "+" || peek() == "-" { index += 1 }
            if Self.isDigit(peek()) {
                while Self.isDigit(peek()) { index += 1 }
            } else {
                index = mark
            }
        }
        if let p = peek(), Self.isWordStart(p) {
            throw error("a number cannot run into a word here (quote names that start with a digit)", at: start)
        }
        guard let value = Double(String(characters[start..<index])), value.isFinite else {
            throw error("number out of range", at: start)
        }
        return Token(kind: .number(value), column: start + 1)
    }

    /// `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]][Z]`; nil (and nothing consumed) otherwise.
    mutating func dateLiteral() -> String? {
        func digits(_ from: Int, _ count: Int) -> Bool {
            (from..<(from + count)).allSatisfy { $0 < characters.count && Self.isDigit(characters[$0]) }
        }
        func char(_ at: Int, _ c: Character) -> Bool { at < characters.count && characters[at] == c }
        let s = index
        guard digits(s, 4), char(s + 4, "-"), digits(s + 5, 2), char(s + 7, "-"), digits(s + 8, 2) else { return nil }
        var end = s + 10
        if char(end, "T"), digits(end + 1, 2), char(end + 3, ":"), digits(end + 4, 2) {
            end += 6
            if char(end, ":"), digits(end + 1, 2) {
                end += 3
                if char(end, "."), digits(end + 1, 1) {
                    end += 1
                    while end < characters.count, Self.isDigit(characters[end]) { end += 1 }
                }
            }
            if char(end, "Z") { end += 1 }
        }
        index = end
        return String(characters[s..<end])
    }
}
