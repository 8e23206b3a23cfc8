import Foundation
import Hummingbird

/// A request's query parameters as HTML forms and most HTTP clients write them
/// (`application/x-www-form-urlencoded`): `+` is a space, `%2B` a plus. Python's `requests`
/// sends `params={"query": "labels.cat > 3"}` as `query=labels.cat+%3E+3`.
///
/// Read where asked: `get` decodes only the value it returns, so a route that reads three
/// parameters does not build every pair three times.
struct FormQuery: Sendable {
    private let raw: Substring

    init(_ raw: String?) {
        self.raw = raw?[...] ?? ""
    }

    /// The first value of `name`; nil when the query has none.
    func get(_ name: String) -> String? {
        for pair in raw.split(separator: "&") {
            let (key, value) = Self.halves(pair)
            if key == name || Self.decode(key) == name { return Self.decode(value) }
        }
        return nil
    }

    /// Every parameter, the first value of each name.
    var all: [String: String] {
        var values: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let (key, value) = Self.halves(pair)
            let name = Self.decode(key)
            if values[name] == nil { values[name] = Self.decode(value) }
        }
        return values
    }

    private static func halves(_ pair: Substring) -> (Substring, Substring) {
        guard let equals = pair.firstIndex(of: "=") else { return (pair, "") }
        return (pair[..<equals], pair[pair.index(after: equals)...])
    }

    /// `+` to space, then percent-decoding; text whose escapes do not decode stays as written.
    static func decode(_ text: Substring) -> String {
        guard text.contains(where: { $0 == "+" || $0 == "%" }) else { return String(text) }
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

extension Request {
    /// The query parameters, `+` read as a space (`FormQuery`).
    var formQuery: FormQuery { FormQuery(uri.query) }
}
