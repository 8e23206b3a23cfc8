import Foundation

/// The regular files of a folder, listed with readdir(3): an import lists every image and
/// annotation of a dataset before its transaction, and FileManager's enumerator, which stats
/// each entry and wraps its attributes, took 3.4 s over 200,000 entries where readdir(3) takes
/// 0.05 s. Hidden entries (a name starting with `.`, such as macOS's `._a.jpg` copies) are
/// left out, links to folders are not followed, and folders deeper than the limit are not
/// entered.
enum FolderWalk {
    /// Deepest folder entered below the one listed.
    static let maxDepth = 16

    /// Paths relative to `directory` of the regular files below it (`maxDepth` 0: in it only)
    /// whose name `include` accepts, sorted; empty when `directory` cannot be read. Symbolic
    /// links are listed too when `includingLinks` (whoever opens them confines them:
    /// `ConfinedPath` follows a link inside and refuses one that leads out), else left out.
    static func files(
        in directory: String, maxDepth: Int = maxDepth, includingLinks: Bool = false,
        where include: (String) -> Bool = { _ in true }
    ) -> [String] {
        var found: [String] = []
        walk(directory, relative: "", depth: 0, maxDepth: maxDepth, links: includingLinks, include: include, into: &found)
        found.sort()
        return found
    }

    /// The folders directly in `directory`, hidden ones left out, sorted.
    static func folders(in directory: String) -> [String] {
        var found: [String] = []
        entries(of: directory) { name, kind in if kind == .folder { found.append(name) } }
        return found.sorted()
    }

    /// `a.b.JPG` → `JPG`; a name with no dot after its first character has none.
    static func pathExtension(_ name: String) -> Substring {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...]
    }

    /// `a.b.jpg` → `a.b`; a name with no extension is itself.
    static func stem(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    private static func walk(
        _ directory: String, relative: String, depth: Int, maxDepth: Int, links: Bool, include: (String) -> Bool,
        into found: inout [String]
    ) {
        entries(of: relative.isEmpty ? directory : "\(directory)/\(relative)") { name, kind in
            let path = relative.isEmpty ? name : "\(relative)/\(name)"
            switch kind {
            case .folder:
                guard depth < maxDepth else { return }
                walk(directory, relative: path, depth: depth + 1, maxDepth: maxDepth, links: links, include: include, into: &found)
            case .file, .link where links:
                if include(name) { found.append(path) }
            case .link:
                break
            }
        }
    }

    private enum Kind { case file, folder, link }

    /// Calls `body` with the name of each regular file, folder and symbolic link in `path`,
    /// hidden ones left out.
    private static func entries(of path: String, _ body: (String, Kind) -> Void) {
        guard let stream = opendir(path) else { return }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            guard !name.hasPrefix(".") else { continue }
            var type = entry.pointee.d_type
            if type == UInt8(DT_UNKNOWN) {
                // Some file systems do not say: lstat(2), so that a link is still not followed.
                var status = stat()
                guard lstat("\(path)/\(name)", &status) == 0 else { continue }
                switch status.st_mode & S_IFMT {
                case S_IFDIR: type = UInt8(DT_DIR)
                case S_IFREG: type = UInt8(DT_REG)
                case S_IFLNK: type = UInt8(DT_LNK)
                default: continue
                }
            }
            switch Int32(type) {
            case Int32(DT_DIR): body(name, .folder)
            case Int32(DT_REG): body(name, .file)
            case Int32(DT_LNK): body(name, .link)
            default: break
            }
        }
    }
}
