import Hummingbird

/// A request's query parameters as HTML forms and most HTTP clients write them
/// (`application/x-www-form-urlencoded`): `+` is a space, `%2B` a plus. Python's `requests`
/// sends `params={"query": "labels.cat > 3"}` as `query=labels.cat+%3E+3`.
struct FormQuery: Sendable {
    private let pairs: [(name: String, value: String)]

    init(_ raw: String?) {
        guard let raw, !raw.isEmpty else {
            pairs = []
            return
        }
        pairs = raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    /// The first value of `name`; nil when the query has none.
    func get(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every parameter, the first value of each name.
    var all: [String: String] {
        var values: [String: String] = [:]
        for (name, value) in pairs where values[name] == nil { values[name] = value }
        return values
    }

    /// `+` to space, then percent-decoding; a malformed escape stays as written.
    static func decode(_ text: Substring) -> String {
        guard text.contains("+") || text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        var pending: [UInt8] = []
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                pending = [byte]
                guard let high = iterator.next() else { bytes += pending; continue }
                pending.append(high)
                guard let low = iterator.next() else { bytes += pending; continue }
                pending.append(low)
                if let h = hexValue(high), let l = hexValue(low) { bytes.append(h << 4 | l) } else { bytes += pending }
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Request {
    /// The query parameters, `+` read as a space (`FormQuery`).
    var formQuery: FormQuery { FormQuery(uri.query) }
}
