#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One token of a JSON text.
public enum JSONToken: Equatable, Sendable {
    case beginObject, endObject, beginArray, endArray
    /// A member name (the string before a `:`).
    case key(String)
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    /// The end of the input, after one complete top-level value.
    case end
}

/// A syntax error, at a 1-based line and column.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A pull parser over a byte source that holds one chunk in memory at a time.
///
/// Memory stays bounded whatever the input size: the caller decides what to keep of each
/// token. The grammar (RFC 8259) is checked as tokens are read, so a truncated or malformed
/// file is reported with its position before the caller commits anything.
public struct JSONReader: ~Copyable {
    private var source: any ByteSource
    private var buffer: [UInt8]
    private var index = 0
    private var filled = 0
    private var exhausted = false
    /// Bytes consumed before the current buffer.
    private var consumedBefore = 0
    /// 1-based line of the current position.
    public private(set) var line = 1
    private var lineStart = 0

    private enum Container { case object, array }
    private var stack: [Container] = []
    /// What the grammar allows next.
    private enum Expect { case value, keyOrEnd, key, colon, commaOrEnd, end }
    private var expect: Expect = .value
    /// True right after `[`, where `]` may close an empty array.
    private var arrayJustOpened = false
    /// A token read ahead and put back: `next()` returns it before reading on.
    public var lookahead: JSONToken?

    /// Reads a JSON text held in memory.
    public init(bytes: [UInt8]) {
        self.init(source: MemoryByteSource(bytes: bytes), chunkSize: max(bytes.count, 1))
    }

    public init(source: any ByteSource, chunkSize: Int) {
        self.source = source
        self.buffer = [UInt8](repeating: 0, count: max(chunkSize, 64))
    }

    /// Bytes read so far: with the source's size, the import's progress.
    public var bytesRead: Int { consumedBefore + index }

    /// The depth of nesting: 0 at the top level.
    public var depth: Int { stack.count }

    // MARK: Bytes

    private mutating func refill() throws -> Bool {
        if exhausted { return false }
        // Keep nothing: tokens are copied out as they complete (`scanString` handles splits).
        consumedBefore += filled
        lineStart -= filled
        index = 0
        filled = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if filled == 0 {
            exhausted = true
            return false
        }
        return true
    }

    @inline(__always)
    private mutating func peekByte() throws -> UInt8? {
        if index < filled { return buffer[index] }
        return try refill() ? buffer[index] : nil
    }

    private mutating func skipWhitespace() throws -> UInt8? {
        while true {
            while index < filled {
                let b = buffer[index]
                switch b {
                case 0x20, 0x09, 0x0D: index += 1
                case 0x0A:
                    index += 1
                    line += 1
                    lineStart = index
                default: return b
                }
            }
            if try !refill() { return nil }
        }
    }

    /// A syntax error at the current position.
    public func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(line: line, column: index - lineStart + 1, message: message)
    }

    // MARK: Tokens

    /// The next token; throws `JSONSyntaxError` where the text breaks the grammar.
    public mutating func next() throws -> JSONToken {
        if let token = lookahead {
            lookahead = nil
            return token
        }
        guard var b = try skipWhitespace() else {
            if expect == .end { return .end }
            throw error("unexpected end of input")
        }
        switch expect {
        case .end:
            throw error("unexpected text after the end of the document")
        case .colon:
            guard b == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            expect = .value
            guard let v = try skipWhitespace() else { throw error("unexpected end of input") }
            b = v
        case .commaOrEnd:
            if b == UInt8(ascii: ",") {
                index += 1
                expect = stack.last == .object ? .key : .value
                guard let v = try skipWhitespace() else { throw error("unexpected end of input") }
                b = v
            } else {
                return try closeContainer(b)
            }
        case .keyOrEnd:
            if b == UInt8(ascii: "}") { return try closeContainer(b) }
            expect = .key
        case .key, .value:
            break
        }
        if expect == .key {
            guard b == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
            let name = try scanString()
            expect = .colon
            return .key(name)
        }
        // expect == .value
        if arrayJustOpened, b == UInt8(ascii: "]") {
            arrayJustOpened = false
            return try closeContainer(b)
        }
        arrayJustOpened = false
        switch b {
        case UInt8(ascii: "{"):
            index += 1
            stack.append(.object)
            expect = .keyOrEnd
            return .beginObject
        case UInt8(ascii: "["):
            index += 1
            stack.append(.array)
            expect = .value
            arrayJustOpened = true
            return .beginArray
        case UInt8(ascii: "\""):
            let s = try scanString()
            afterValue()
            return .string(s)
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            afterValue()
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            afterValue()
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            afterValue()
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let n = try scanNumber()
            afterValue()
            return .number(n)
        default:
            throw error("unexpected character '\(Character(Unicode.Scalar(b)))'")
        }
    }

    private mutating func closeContainer(_ b: UInt8) throws -> JSONToken {
        let top = stack.last
        if b == UInt8(ascii: "}"), top == .object {
            index += 1
            stack.removeLast()
            afterValue()
            return .endObject
        }
        if b == UInt8(ascii: "]"), top == .array {
            index += 1
            stack.removeLast()
            afterValue()
            return .endArray
        }
        throw error(top == .object ? "expected ',' or '}'" : "expected ',' or ']'")
    }

    private mutating func afterValue() {
        expect = stack.isEmpty ? .end : .commaOrEnd
    }

    private mutating func scanLiteral(_ word: StaticString) throws {
        var matched = true
        word.withUTF8Buffer { expected in
            for e in expected {
                guard (try? peekByte()) == e else {
                    matched = false
                    return
                }
                index += 1
            }
        }
        guard matched else { throw error("invalid literal, expected '\(word)'") }
    }

    private mutating func scanString() throws -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        while true {
            // Fast path: copy a run of plain bytes at once.
            let start = index
            while index < filled {
                let c = buffer[index]
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                index += 1
            }
            if index > start {
                if out.isEmpty, index < filled, buffer[index] == UInt8(ascii: "\"") {
                    let s = String(decoding: buffer[start..<index], as: UTF8.self)
                    index += 1
                    return s
                }
                out.append(contentsOf: buffer[start..<index])
            }
            guard let c = try peekByte() else { throw error("unterminated string") }
            if c == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw error("control character in string") }
            if c == UInt8(ascii: "\\") {
                index += 1
                guard let e = try peekByte() else { throw error("unterminated string") }
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try scanHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by `\u` and a low one (RFC 8259 §7).
                        guard try peekByte() == UInt8(ascii: "\\") else { throw error("unpaired surrogate") }
                        index += 1
                        guard try peekByte() == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                        index += 1
                        let low = try scanHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate")
                    }
                    out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            }
        }
    }

    private mutating func scanHex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = try peekByte() else { throw error("unterminated string") }
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { p in
        var v = 1.0
        for _ in 0..<p { v *= 10 }
        return v
    }

    private mutating func scanNumber() throws -> Double {
        // Grammar check and a fast exact conversion in one pass. The slow path (strtod, correctly
        // rounded where the fast path cannot be) reads the number's text from the buffer; only
        // a number split by a refill copies its first part out (no allocation per number).
        var start = index
        var spilled: [UInt8] = []
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var negative = false
        var exponent = 0
        var exponentNegative = false
        func next(_ r: inout JSONReader) throws -> UInt8? {
            if r.index < r.filled { return r.buffer[r.index] }
            spilled += r.buffer[start..<r.filled]
            start = 0
            return try r.refill() ? r.buffer[r.index] : nil
        }
        if try next(&self) == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard let first = try next(&self), first >= 48, first <= 57 else { throw error("invalid number") }
        if first == UInt8(ascii: "0") {
            index += 1
            if let c = try next(&self), c >= 48, c <= 57 { throw error("invalid number: leading zero") }
        } else {
            while let c = try next(&self), c >= 48, c <= 57 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(c - 48) } else { exponent += 1 }
                digits += 1
                index += 1
            }
        }
        if try next(&self) == UInt8(ascii: ".") {
            index += 1
            var any = false
            while let c = try next(&self), c >= 48, c <= 57 {
                any = true
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(c - 48)
                    fractionDigits += 1
                }
                if mantissa != 0 { digits += 1 }
                index += 1
            }
            guard any else { throw error("invalid number: no digits after '.'") }
        }
        var explicitExponent = 0
        if let c = try next(&self), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            index += 1
            if let s = try next(&self), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                exponentNegative = s == UInt8(ascii: "-")
                index += 1
            }
            var any = false
            while let c = try next(&self), c >= 48, c <= 57 {
                any = true
                if explicitExponent < 100_000 { explicitExponent = explicitExponent * 10 + Int(c - 48) }
                index += 1
            }
            guard any else { throw error("invalid number: no digits in exponent") }
        }
        let power = exponent - fractionDigits + (exponentNegative ? -explicitExponent : explicitExponent)
        // Clinger's fast path: both the mantissa and 10^|power| are exact doubles, so one
        // IEEE multiplication or division gives the correctly rounded result.
        if digits <= 15, mantissa < (1 << 53), abs(power) <= 22 {
            var v = Double(mantissa)
            v = power < 0 ? v / Self.exactPowersOfTen[-power] : v * Self.exactPowersOfTen[power]
            return negative ? -v : v
        }
        var text = spilled + buffer[start..<index]
        text.append(0)
        return text.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { strtod($0, nil) }
        }
    }

    // MARK: Values

    /// Reads one whole value (the next token onwards) into memory.
    public mutating func readValue() throws -> JSONValue {
        try value(startingWith: next())
    }

    /// Deepest nesting `readValue` builds: a stranger's `[[[[…` must not exhaust the stack.
    public static let maxValueDepth = 128

    /// Reads one whole value of which `token` is the first token.
    public mutating func value(startingWith token: JSONToken) throws -> JSONValue {
        if token == .beginArray || token == .beginObject, depth > Self.maxValueDepth {
            throw error("values nest deeper than \(Self.maxValueDepth) levels")
        }
        switch token {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n)
        case .bool(let b): return .bool(b)
        case .null: return .null
        case .beginArray:
            var items: [JSONValue] = []
            while true {
                let t = try next()
                if t == .endArray { return .array(items) }
                items.append(try value(startingWith: t))
            }
        case .beginObject:
            var members: [String: JSONValue] = [:]
            while true {
                let t = try next()
                if t == .endObject { return .object(members) }
                guard case .key(let k) = t else { throw error("expected a member name") }
                members[k] = try readValue()
            }
        case .key, .endArray, .endObject, .end:
            throw error("expected a value")
        }
    }

    /// Skips one whole value without building it.
    public mutating func skipValue() throws {
        try skip(startingWith: next())
    }

    /// Skips the rest of a value of which `token` was the first token.
    public mutating func skip(startingWith token: JSONToken) throws {
        guard token == .beginArray || token == .beginObject else { return }
        let target = depth - 1
        while depth > target {
            _ = try next()
        }
    }
}

/// Where a `JSONReader` gets its bytes.
public protocol ByteSource {
    /// Fills up to `buffer.count` bytes; 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Bytes held in memory.
public struct MemoryByteSource: ByteSource {
    let bytes: [UInt8]
    var offset = 0

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}
