import Crypto
import Foundation

/// Media bytes kept once per content, at `root/ab/cd/abcd…` for the SHA-256 `abcd…`.
///
/// Content addressing makes writes idempotent and lets several servers share one directory.
public struct MediaStore: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// The path of the bytes with this hash (which may not exist).
    public func path(for sha256: String) -> String {
        let a = sha256.prefix(2), b = sha256.dropFirst(2).prefix(2)
        return root.appendingPathComponent("\(a)/\(b)/\(sha256)").path
    }

    public func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(for: sha256))
    }

    /// Hashes the file at `sourcePath` while copying it in; returns what was stored.
    public func put(fileAt sourcePath: String) throws -> StoredMedia {
        guard let input = FileHandle(forReadingAtPath: sourcePath) else {
            throw MediaError.unreadable(path: sourcePath)
        }
        defer { try? input.close() }
        let staging = root.appendingPathComponent("staging-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: staging, contents: nil),
            let output = FileHandle(forWritingAtPath: staging)
        else { throw MediaError.unwritable(path: staging) }
        var hasher = SHA256()
        var size: Int64 = 0
        var head = Data()
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                if head.count < 65_536 { head.append(chunk.prefix(65_536 - head.count)) }
                try output.write(contentsOf: chunk)
                size += Int64(chunk.count)
            }
            try output.close()
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(atPath: staging)
            throw MediaError.unreadable(path: sourcePath)
        }
        let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let destination = path(for: sha)
        if FileManager.default.fileExists(atPath: destination) {
            try? FileManager.default.removeItem(atPath: staging)
        } else {
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // rename(2) is atomic: a reader never sees a half-written blob under its final name.
            if rename(staging, destination) != 0 {
                try? FileManager.default.removeItem(atPath: staging)
                if !FileManager.default.fileExists(atPath: destination) {
                    throw MediaError.unwritable(path: destination)
                }
            }
        }
        let header = ImageHeader(bytes: [UInt8](head))
        return StoredMedia(
            sha256: sha, byteSize: size,
            mimeType: header?.mimeType ?? MediaType.mimeType(forPath: sourcePath),
            width: header?.width, height: header?.height)
    }
}

/// What `MediaStore.put` learnt about stored bytes.
public struct StoredMedia: Sendable, Hashable {
    public var sha256: String
    public var byteSize: Int64
    public var mimeType: String
    public var width: Int?
    public var height: Int?
}

/// Errors of the media store.
public enum MediaError: Error, CustomStringConvertible {
    case unreadable(path: String)
    case unwritable(path: String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read media file \(path)"
        case .unwritable(let path): "cannot write media file \(path)"
        }
    }
}

/// MIME types by file extension, for media whose header is not recognised.
public enum MediaType {
    public static func mimeType(forPath path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "gif": "image/gif"
        case "bmp": "image/bmp"
        case "webp": "image/webp"
        case "tif", "tiff": "image/tiff"
        case "mp4": "video/mp4"
        case "webm": "video/webm"
        case "txt": "text/plain"
        default: "application/octet-stream"
        }
    }
}
