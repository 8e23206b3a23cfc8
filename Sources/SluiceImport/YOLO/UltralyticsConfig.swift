/// The part of an Ultralytics `data.yaml` a dataset needs: `path`, the subset folders and the
/// class `names` (an inline list, a block list, or an index → name map). The file is read as
/// that small subset of YAML; anything else in it is ignored, and a malformed value is named
/// by its line.
struct UltralyticsConfig: Sendable {
    var path: String?
    /// (subset, folder relative to the root) in the order train, val, test.
    var subsets: [(String, String)] = []
    var names: [String] = []

    init(path file: String, relative: String) throws {
        let lines = try FolderFiles.lines(file, relative: relative)
        func fault(_ line: Int, _ message: String) -> ImportError {
            .invalid(file: relative, line: line, path: "", message: message)
        }
        var scalars: [String: String] = [:]
        var indexed: [Int: String] = [:]
        var inNames = false
        for (number, raw) in lines {
            let text = Self.uncommented(String(raw))
            guard !text.trimmed().isEmpty else { continue }
            let indented = text.first == " " || text.first == "\t"
            let trimmed = text.trimmed()
            if indented || trimmed.hasPrefix("- ") {
                guard inNames else { continue }
                if trimmed.hasPrefix("- ") {
                    names.append(Self.unquoted(String(trimmed.dropFirst(2))))
                } else if let colon = trimmed.firstIndex(of: ":") {
                    guard let index = Int(trimmed[..<colon].trimmed()), index >= 0, index < 100_000
                    else { throw fault(number, "names: expected 'INDEX: name'") }
                    indexed[index] = Self.unquoted(trimmed[trimmed.index(after: colon)...].trimmed())
                }
                continue
            }
            guard let colon = trimmed.firstIndex(of: ":") else { throw fault(number, "expected key: value") }
            let key = trimmed[..<colon].trimmed()
            let value = trimmed[trimmed.index(after: colon)...].trimmed()
            inNames = key == "names" && value.isEmpty
            if key == "names", !value.isEmpty {
                guard value.hasPrefix("["), value.hasSuffix("]") else { throw fault(number, "names: expected a list") }
                names = value.dropFirst().dropLast().split(separator: ",").map {
                    Self.unquoted($0.trimmed())
                }
            } else if !value.isEmpty {
                scalars[key] = Self.unquoted(value)
            }
        }
        if !indexed.isEmpty {
            guard indexed.keys.sorted() == Array(0..<indexed.count) else {
                throw fault(0, "names: class indices must run 0, 1, 2, … without gaps")
            }
            names = (0..<indexed.count).map { indexed[$0]! }
        }
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else { throw fault(0, "names: no class names") }
        // `path` is where the dataset was on the machine that wrote the file: kept only when
        // relative (an absolute one is read as the root itself).
        if let root = scalars["path"], !root.hasPrefix("/"), root != "." { path = root }
        for subset in ["train", "val", "test"] {
            if let folder = scalars[subset] { subsets.append((subset, folder.hasPrefix("./") ? String(folder.dropFirst(2)) : folder)) }
        }
    }

    static func uncommented(_ line: String) -> String {
        // A `#` starts a comment unless inside quotes (where `\"` does not close a double quote).
        var quote: Character?
        var escaped = false
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if escaped { escaped = false } else if open == "\"" && character == "\\" { escaped = true } else if character == open {
                    quote = nil
                }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#" {
                return String(line.prefix(offset))
            }
        }
        return line
    }

    /// A scalar's value: a double-quoted one with YAML's escapes read (`\"`, `\\`, `\n`, `\xXX`,
    /// `\uXXXX` …), a single-quoted one with `''` read as `'`, a plain one as written.
    static func unquoted(_ text: String) -> String {
        guard text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first else { return text }
        let body = text.dropFirst().dropLast()
        if first == "'" { return body.replacingOccurrences(of: "''", with: "'") }
        var out = String.UnicodeScalarView()
        var scalars = body.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "\\", let escape = scalars.next() else {
                out.append(scalar)
                continue
            }
            func hex(_ digits: Int) -> Unicode.Scalar? {
                var text = ""
                for _ in 0..<digits { if let next = scalars.next() { text.unicodeScalars.append(next) } }
                return UInt32(text, radix: 16).flatMap(Unicode.Scalar.init)
            }
            switch escape {
            case "x": out.append(hex(2) ?? "\u{FFFD}")
            case "u": out.append(hex(4) ?? "\u{FFFD}")
            case "U": out.append(hex(8) ?? "\u{FFFD}")
            default: out.append(singleEscapes[escape] ?? escape)
            }
        }
        return String(out)
    }

    /// YAML's one-character escapes in double-quoted scalars and what each stands for.
    static let singleEscapes: [Unicode.Scalar: Unicode.Scalar] = [
        "0": "\u{0}", "a": "\u{7}", "b": "\u{8}", "t": "\t", "n": "\n", "v": "\u{B}", "f": "\u{C}", "r": "\r",
        "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}", "L": "\u{2028}",
        "P": "\u{2029}",
    ]
}
