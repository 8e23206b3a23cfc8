import SluiceModel

/// Typed reads that fail with the JSON path of the value, for importers.
extension JSONReader {
    mutating func token(at path: @autoclosure () -> String) throws -> JSONToken {
        do {
            return try next()
        } catch let error as JSONSyntaxError {
            throw ImportError.syntax(error)
        }
    }

    func malformed(_ path: String, _ expected: String) -> ImportError {
        .malformed(path: path, expected: expected, line: line)
    }

    /// Calls `member` with each key of an object; `member` must consume the value.
    mutating func readObject(at path: String, _ member: (inout JSONReader, String) throws -> Void) throws {
        guard try nextValueToken(at: path) == .beginObject else { throw malformed(path, "an object") }
        while true {
            let t = try token(at: path)
            if t == .endObject { return }
            guard case .key(let key) = t else { throw malformed(path, "a member name") }
            try member(&self, key)
        }
    }

    /// Calls `element` with each index of an array; `element` must consume the value.
    mutating func readArray(at path: String, _ element: (inout JSONReader, Int) throws -> Void) throws {
        guard try nextValueToken(at: path) == .beginArray else { throw malformed(path, "an array") }
        var index = 0
        while try peekIsNotEnd(at: path) {
            try element(&self, index)
            index += 1
        }
    }

    /// Consumes `]` and returns false at the end of an array; otherwise leaves the value unread.
    private mutating func peekIsNotEnd(at path: String) throws -> Bool {
        let t = try token(at: path)
        if t == .endArray { return false }
        lookahead = t
        return true
    }

    mutating func readNumber(at path: String) throws -> Double {
        guard case .number(let n) = try nextValueToken(at: path) else { throw malformed(path, "a number") }
        return n
    }

    mutating func readOptionalNumber(at path: String) throws -> Double? {
        switch try nextValueToken(at: path) {
        case .number(let n): return n
        case .null: return nil
        default: throw malformed(path, "a number")
        }
    }

    mutating func readInteger(at path: String) throws -> Int64 {
        guard case .number(let n) = try nextValueToken(at: path), n.rounded() == n, abs(n) < 9.0e15 else {
            throw malformed(path, "an integer")
        }
        return Int64(n)
    }

    mutating func readString(at path: String) throws -> String {
        guard case .string(let s) = try nextValueToken(at: path) else { throw malformed(path, "a string") }
        return s
    }

    mutating func readOptionalString(at path: String) throws -> String? {
        switch try nextValueToken(at: path) {
        case .string(let s): return s
        case .null: return nil
        default: throw malformed(path, "a string")
        }
    }

    /// A flag written as 0/1 or false/true.
    mutating func readFlag(at path: String) throws -> Bool {
        switch try nextValueToken(at: path) {
        case .bool(let b): return b
        case .number(let n) where n == 0 || n == 1: return n == 1
        default: throw malformed(path, "0, 1, true or false")
        }
    }

    mutating func readNumbers(at path: String, expected: String = "an array of numbers") throws -> [Double] {
        guard try nextValueToken(at: path) == .beginArray else { throw malformed(path, expected) }
        var values: [Double] = []
        while true {
            switch try token(at: path) {
            case .number(let n): values.append(n)
            case .endArray: return values
            default: throw malformed(path, expected)
            }
        }
    }

    mutating func readAnyValue(at path: String) throws -> JSONValue {
        let t = try nextValueToken(at: path)
        do {
            return try value(startingWith: t)
        } catch let error as JSONSyntaxError {
            throw ImportError.syntax(error)
        }
    }

    mutating func skipAnyValue(at path: String) throws {
        let t = try nextValueToken(at: path)
        do {
            try skip(startingWith: t)
        } catch let error as JSONSyntaxError {
            throw ImportError.syntax(error)
        }
    }

    /// The next token (the one `readArray` looked ahead at, if any).
    mutating func nextValueToken(at path: String) throws -> JSONToken {
        try token(at: path)
    }
}
