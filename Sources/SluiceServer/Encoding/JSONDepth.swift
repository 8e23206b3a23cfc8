/// The nesting depth of a JSON text, checked before it is decoded: a body of ten thousand
/// `[` would otherwise make the decoder recurse that deep.
enum JSONDepth {
    /// The byte offset where nesting first goes past `limit`, or nil when it never does.
    /// Brackets inside strings do not count.
    static func exceeding(_ limit: Int, in bytes: some Collection<UInt8>) -> Int? {
        var depth = 0, inString = false, escaped = false
        for (offset, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return offset }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }
}
