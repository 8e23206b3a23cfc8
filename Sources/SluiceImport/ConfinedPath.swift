import Foundation
import Synchronization

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
        guard let realDirectory = realDirectory(directory) else {
            guard realPath(joined) == nil else { throw refuse("its directory \(directory) cannot be resolved") }
            return joined
        }
        // Walked from the directory's real path one component at a time: a file reached through
        // no symbolic link is its own real path, and only a link needs realpath(3), which costs
        // a readlink(2) per component of the whole path (two per image, a twentieth of an import).
        var walked = realDirectory == "/" ? "" : realDirectory
        // Split on "/" alone, as the kernel does: a backslash is part of a name here.
        for component in relative.split(separator: "/") where component != "." {
            walked += "/" + component
            var status = stat()
            guard lstat(walked, &status) == 0 else { return joined }
            if status.st_mode & S_IFMT == S_IFLNK {
                return try throughLink(joined, directory: directory, realDirectory: realDirectory, refuse)
            }
        }
        return walked.isEmpty ? "/" : walked
    }

    /// `joined`'s real path when a symbolic link is on the way: refused unless it stays inside
    /// `realDirectory`.
    private static func throughLink(
        _ joined: String, directory: String, realDirectory: String, _ refuse: (String) -> ImportError
    ) throws -> String {
        guard let realFile = realPath(joined) else { return joined }
        let root = realDirectory.hasSuffix("/") ? realDirectory : realDirectory + "/"
        guard realFile.hasPrefix(root) else { throw refuse("a symbolic link leads out of \(directory)") }
        return realFile
    }

    /// The directory an import resolves against, the last one asked for: kept with its device and
    /// inode, which one stat(2) checks again, so that a directory replaced since is resolved anew.
    private static let lastDirectory = Mutex<(path: String, device: UInt64, inode: UInt64, real: String)?>(nil)

    private static func realDirectory(_ directory: String) -> String? {
        var status = stat()
        guard stat(directory, &status) == 0 else { return nil }
        let (device, inode) = (UInt64(status.st_dev), UInt64(status.st_ino))
        if let last = lastDirectory.withLock({ $0 }), last.path == directory, last.device == device, last.inode == inode {
            return last.real
        }
        guard let real = realPath(directory) else { return nil }
        lastDirectory.withLock { $0 = (directory, device, inode, real) }
        return real
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
