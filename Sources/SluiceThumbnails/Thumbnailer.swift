import CVips
import Foundation

/// Thumbnails of stored images, made by libvips (Debian's libvips) and kept on disk beside the
/// media: the web page's gallery asks for the same few sizes of the same files again and again.
///
/// A thumbnail's address is its source's SHA-256 and its size, so it never goes stale (media is
/// content-addressed) and every server sharing a media directory shares them too.
public struct Thumbnailer: Sendable {
    /// Sizes a client may ask for: bounded so that a stranger cannot fill the disk with one
    /// thumbnail per integer.
    public static let sizes: ClosedRange<Int> = 32...1024
    /// Sizes are rounded up to a multiple of this, for the same reason.
    public static let sizeStep = 32

    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The size actually made for a request of `size`: rounded up to the step, within bounds.
    public static func canonicalSize(_ size: Int) -> Int {
        let clamped = min(max(size, sizes.lowerBound), sizes.upperBound)
        return (clamped + sizeStep - 1) / sizeStep * sizeStep
    }

    /// The JPEG thumbnail of `sha256` at `size` (canonical), made from the image at `source` and
    /// kept if it is not there yet. Blocking: call it from a thread pool.
    public func thumbnail(sha256: String, source: String, size: Int) throws -> Data {
        try kept(name: sha256, size: size) { try Self.jpeg(of: source, size: $0) }
    }

    /// The JPEG thumbnail of frame `frame` of the video `sha256` at `size`, made from the video
    /// at `source` (by ffmpeg, then libvips) and kept as `{sha256}-f{frame}.jpg`. Blocking.
    public func thumbnail(sha256: String, source: String, frame: Int, frameRate: Double, size: Int) throws -> Data {
        try kept(name: "\(sha256)-f\(frame)", size: size) { size in
            let still = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-frame-\(UUID().uuidString).png").path
            defer { try? FileManager.default.removeItem(atPath: still) }
            try VideoFrameGrab.png(of: source, frame: frame, frameRate: frameRate, to: still)
            return try Self.jpeg(of: still, size: size)
        }
    }

    private func kept(name: String, size: Int, make: (Int) throws -> [UInt8]) throws -> Data {
        let size = Self.canonicalSize(size)
        let folder = directory.appendingPathComponent(String(size), isDirectory: true)
        let path = folder.appendingPathComponent("\(name).jpg").path
        // Read whole, not streamed from the path: a thumbnail is tens of kilobytes, and a file
        // removed from the cache while a response is under way would cut that response short.
        if let kept = FileManager.default.contents(atPath: path) { return kept }
        let bytes = Data(try make(size))
        // Keeping is for the next request: a cache that cannot keep a thumbnail now (a full disk,
        // a folder emptied by an operator while it was written) still serves the one just made.
        Self.keep(bytes, at: path, in: folder, name: name)
        return bytes
    }

    /// Written aside, then renamed: a reader never sees half a thumbnail, and two servers making
    /// the same one at once both end with a whole file. Whatever fails leaves nothing behind.
    private static func keep(_ bytes: Data, at path: String, in folder: URL, name: String) {
        let staging = folder.appendingPathComponent(".\(name).\(UUID().uuidString).partial")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try bytes.write(to: staging)
        } catch {
            return
        }
        if rename(staging.path, path) != 0 { try? FileManager.default.removeItem(at: staging) }
    }

    /// A JPEG of the image at `path`, within `size` × `size`.
    public static func jpeg(of path: String, size: Int) throws -> [UInt8] {
        try Self.start()
        var output: UnsafeMutableRawPointer?
        var length = 0
        guard sluice_vips_thumbnail_jpeg(path, Int32(size), &output, &length) == 0, let output else {
            throw ThumbnailError.undecodable(String(cString: sluice_vips_take_error()))
        }
        defer { g_free(output) }
        return Array(UnsafeRawBufferPointer(start: output, count: length))
    }

    private static let started: Bool = sluice_vips_start() == 0

    static func start() throws {
        guard started else { throw ThumbnailError.unavailable("libvips did not start: \(String(cString: sluice_vips_take_error()))") }
    }
}

public enum ThumbnailError: Error, CustomStringConvertible, Equatable {
    /// The bytes are not an image libvips reads (or one of a loader it refuses as untrusted).
    case undecodable(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .undecodable(let message): "not an image that can be thumbnailed: \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .unavailable(let message): message
        }
    }
}
