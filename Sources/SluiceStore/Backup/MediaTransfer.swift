import Crypto
import Foundation

/// How media blobs reach a backup or a restored store.
public enum MediaTransfer: Sendable, Equatable {
    /// A hard link when source and destination share a file system, else a copy. Blobs are
    /// never changed in place (they are written under a staging name and renamed), so a link
    /// is as good as a copy against everything but a failure of the disk itself.
    case linkOrCopy
    /// Always a copy: the backup shares no bytes with the store.
    case copy
}

/// Moves blobs from one content-addressed media root to another, checking each one's hash.
struct MediaCopier {
    let source: URL
    let destination: URL
    let transfer: MediaTransfer
    /// Cleared at the first link that fails across file systems: no use trying each blob.
    private var mayLink: Bool

    init(from source: URL, to destination: URL, transfer: MediaTransfer) {
        self.source = source
        self.destination = destination
        self.transfer = transfer
        mayLink = transfer == .linkOrCopy
    }

    /// Links or copies blob `sha256` and checks that its bytes hash to that name.
    /// Returns its size and whether it was linked. Throws `BackupError.missingMedia` when the
    /// source has no such blob and `BackupError.corruptMedia` (naming the source path) when
    /// its bytes hash to something else.
    mutating func move(_ sha256: String) throws -> (bytes: Int64, linked: Bool) {
        let relative = MediaStore.relativePath(for: sha256)
        let from = source.appendingPathComponent(relative).path
        let to = destination.appendingPathComponent(relative).path
        let folder = (to as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw BackupError.unwritable(path: folder, reason: error.localizedDescription)
        }
        if mayLink {
            if link(from, to) == 0 {
                // The link is the source's inode: hashing it reads the source's bytes.
                let (actual, bytes) = try Self.hash(fileAt: to, sha256: sha256, source: from)
                guard actual == sha256 else { throw BackupError.corruptMedia(path: from, actual: actual) }
                return (bytes, true)
            }
            switch errno {
            case ENOENT: throw BackupError.missingMedia(sha256: sha256, path: from)
            case EEXIST: throw BackupError.unwritable(path: to, reason: "a file is there already")
            // Another file system (EXDEV), or one without hard links: copy from now on.
            default: mayLink = false
            }
        }
        return (try copy(from: from, to: to, sha256: sha256), false)
    }

    /// Copies `from` to `to`, hashing the bytes as they pass; the copy is synced to disk.
    private func copy(from: String, to: String, sha256: String) throws -> Int64 {
        guard let input = FileHandle(forReadingAtPath: from) else {
            if !FileManager.default.fileExists(atPath: from) { throw BackupError.missingMedia(sha256: sha256, path: from) }
            throw BackupError.unreadable(path: from)
        }
        defer { try? input.close() }
        let descriptor = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BackupError.unwritable(path: to, reason: String(cString: strerror(errno))) }
        let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var hasher = SHA256()
        var bytes: Int64 = 0
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                try output.write(contentsOf: chunk)
                bytes += Int64(chunk.count)
            }
            try output.synchronize()
            try output.close()
        } catch {
            try? output.close()
            throw BackupError.unwritable(path: to, reason: error.localizedDescription)
        }
        let actual = Self.hex(hasher.finalize())
        guard actual == sha256 else { throw BackupError.corruptMedia(path: from, actual: actual) }
        return bytes
    }

    /// The SHA-256 and size of the file at `path`; `source` is the path errors name.
    static func hash(fileAt path: String, sha256: String, source: String) throws -> (String, Int64) {
        guard let input = FileHandle(forReadingAtPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { throw BackupError.missingMedia(sha256: sha256, path: source) }
            throw BackupError.unreadable(path: source)
        }
        defer { try? input.close() }
        var hasher = SHA256()
        var bytes: Int64 = 0
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                bytes += Int64(chunk.count)
            }
        } catch {
            throw BackupError.unreadable(path: source)
        }
        return (hex(hasher.finalize()), bytes)
    }

    static func hex(_ digest: SHA256.Digest) -> String { MediaStore.hex(digest) }
}
