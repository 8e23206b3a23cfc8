import Foundation

/// A path from an import file (a COCO `file_name`), held inside the directory it is relative
/// to: import files come from people who do not run the server.
public enum ConfinedPath {
    /// `relative` below `directory`. Refused, naming `field`, when it is empty, absolute,
    /// climbs with `..`, holds a NUL, or leads out of `directory` through a symbolic link.
    /// A path that does not exist is returned as joined (the caller reports it missing).
    public static func resolve(_ relative: String, in directory: String, field: String) throws -> String {
        func refuse(_ why: String) -> ImportError { .unsafePath(path: field, file: relative, reason: why) }
        guard !relative.isEmpty else { throw refuse("it is empty") }
        guard !relative.hasPrefix("/"), !relative.hasPrefix("\\") else { throw refuse("it is absolute") }
        guard !relative.contains("\0") else { throw refuse("it holds a NUL byte") }
        let components = relative.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        guard !components.contains("..") else { throw refuse("it climbs out with '..'") }
        let joined = (directory as NSString).appendingPathComponent(relative)
        guard let realFile = realPath(joined) else { return joined }
        guard let realDirectory = realPath(directory) else { throw refuse("its directory \(directory) cannot be resolved") }
        let root = realDirectory.hasSuffix("/") ? realDirectory : realDirectory + "/"
        guard realFile.hasPrefix(root) else { throw refuse("a symbolic link leads out of \(directory)") }
        return realFile
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
