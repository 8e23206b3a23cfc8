import Foundation
import SluiceModel
import SluiceStore

/// A folder sent through the network: its files uploaded content-addressed (`PUT /media/{sha256}`)
/// and a listing upload of `sha256<TAB>relative/path` lines. The server lays it out again as
/// a folder of hard links to the stored bytes (copies where a link cannot be made), so the
/// folder importers read it exactly as they read a local folder; it is removed afterwards.
///
/// The listing is a stranger's: every path is relative, plain (no `.`, `..`, empty component,
/// backslash or control character), at most 32 components deep and 1,024 bytes long, named once,
/// and its bytes must be held already. A fault names the listing's line.
struct UploadedTree {
    static let maxEntries = 2_000_000
    static let maxPathBytes = 1024
    static let maxDepth = 32

    struct Entry: Sendable {
        var sha256: String
        var path: String
    }

    let entries: [Entry]

    /// Reads and checks the listing upload `sha256`; `field` names it in faults.
    init(listing sha256: String, media: MediaStore, field: String) throws {
        guard MediaStore.isSHA256(sha256), media.contains(sha256) else {
            throw StoreError.invalidField(FieldError(path: field, message: "the server holds no upload with this SHA-256"))
        }
        let path = media.path(for: sha256)
        guard let data = FileManager.default.contents(atPath: path) else { throw MediaError.unreadable(path: path) }
        var entries: [Entry] = []
        var seen: Set<String> = []
        var number = 0
        func refuse(_ message: String) -> StoreError {
            .invalidField(FieldError(path: field, message: "line \(number): \(message)"))
        }
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if line.isEmpty { continue }
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")),
                let sha = String(bytes: line[line.startIndex..<tab], encoding: .utf8), MediaStore.isSHA256(sha),
                let name = String(bytes: line[(tab + 1)...], encoding: .utf8)
            else { throw refuse("expected 'sha256<TAB>relative/path'") }
            if let problem = Self.problem(of: name) { throw refuse("'\(name.prefix(200))' \(problem)") }
            guard seen.insert(name).inserted else { throw refuse("'\(name)' is listed twice") }
            guard media.contains(sha) else { throw refuse("the server holds no upload \(sha) for '\(name)'") }
            entries.append(Entry(sha256: sha, path: name))
            guard entries.count <= Self.maxEntries else { throw refuse("more than \(Self.maxEntries) files") }
        }
        guard !entries.isEmpty else { throw StoreError.invalidField(FieldError(path: field, message: "the listing names no file")) }
        self.entries = entries
    }

    /// Why `path` is not a plain relative path, or nil.
    static func problem(of path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.utf8.count > maxPathBytes { return "is longer than \(maxPathBytes) bytes" }
        if path.hasPrefix("/") { return "is absolute" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) {
            return "holds a control character or a backslash"
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > maxDepth { return "is more than \(maxDepth) folders deep" }
        if components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) { return "has an empty, '.' or '..' component" }
        if components.contains(where: { $0.utf8.count > 255 }) { return "has a name longer than 255 bytes" }
        return nil
    }

    /// Whether `relative` (an option naming a place in the tree) is a plain path in it, or the
    /// prefix of one (a folder).
    func holds(_ relative: String) -> Bool {
        entries.contains { $0.path == relative || $0.path.hasPrefix(relative + "/") }
    }

    /// A new directory for a tree, in `media`'s root (so that hard links to its bytes work).
    static func stagingRoot(in media: MediaStore) -> URL {
        media.root.appendingPathComponent(".imports", isDirectory: true).appendingPathComponent(UUID().uuidString, isDirectory: true)
    }

    /// Lays the tree out under `root`, linking to (or, across file systems, copying) `media`'s bytes.
    func stage(at root: URL, from media: MediaStore) throws {
        let files = FileManager.default
        do {
            for entry in entries {
                let target = root.appendingPathComponent(entry.path)
                try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                let source = media.path(for: entry.sha256)
                if link(source, target.path) != 0 {
                    try files.copyItem(atPath: source, toPath: target.path)
                }
            }
        } catch {
            try? files.removeItem(at: root)
            throw error
        }
    }
}
