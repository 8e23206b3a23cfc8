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
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let indented = text.first == " " || text.first == "\t"
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if indented || trimmed.hasPrefix("- ") {
                guard inNames else { continue }
                if trimmed.hasPrefix("- ") {
                    names.append(Self.unquoted(String(trimmed.dropFirst(2))))
                } else if let colon = trimmed.firstIndex(of: ":") {
                    guard let index = Int(trimmed[..<colon].trimmingCharacters(in: .whitespaces)), index >= 0, index < 100_000
                    else { throw fault(number, "names: expected 'INDEX: name'") }
                    indexed[index] = Self.unquoted(trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                continue
            }
            guard let colon = trimmed.firstIndex(of: ":") else { throw fault(number, "expected key: value") }
            let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            inNames = key == "names" && value.isEmpty
            if key == "names", !value.isEmpty {
                guard value.hasPrefix("["), value.hasSuffix("]") else { throw fault(number, "names: expected a list") }
                names = value.dropFirst().dropLast().split(separator: ",").map {
                    Self.unquoted($0.trimmingCharacters(in: .whitespaces))
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
        // A `#` starts a comment unless inside quotes.
        var quote: Character?
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#" {
                return String(line.prefix(offset))
            }
        }
        return line
    }

    static func unquoted(_ text: String) -> String {
        if text.count >= 2, let first = text.first, first == "'" || first == "\"", text.last == first {
            return String(text.dropFirst().dropLast())
        }
        return text
    }
}
