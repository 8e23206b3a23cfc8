import Crypto
import Foundation
import SluiceModel

/// Media bytes kept once per content, at `root/ab/cd/abcd…` for the SHA-256 `abcd…`.
///
/// Content addressing makes writes idempotent and lets several servers share one directory.
public struct MediaStore: Sendable {
    public let root: URL
    /// `root`'s path with a trailing slash: paths are made by appending to it, since building
    /// a URL per file was a twentieth of an import of small images.
    private let rootPrefix: String

    public init(root: URL) throws {
        self.root = root
        let path = root.path
        rootPrefix = path.hasSuffix("/") ? path : path + "/"
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// The path of the bytes with this hash (which may not exist).
    public func path(for sha256: String) -> String {
        rootPrefix + Self.relativePath(for: sha256)
    }

    /// Where the bytes with this hash live under a media root: `ab/cd/abcd…`.
    public static func relativePath(for sha256: String) -> String {
        let a = sha256.prefix(2), b = sha256.dropFirst(2).prefix(2)
        return "\(a)/\(b)/\(sha256)"
    }

    public func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(for: sha256))
    }

    /// Moves a checked staging file to the address of `sha256`; when the bytes are there
    /// already, the staging file is dropped (content addressing makes a second upload a no-op).
    ///
    /// rename(2) first, and the two folders made only when it says they are missing: an import
    /// of a million images makes each folder once, not a million times.
    func place(stagingPath staging: String, sha256 sha: String) throws {
        let destination = path(for: sha)
        // rename(2) is atomic: a reader never sees a half-written blob under its final name,
        // and bytes already there are replaced by the same bytes.
        if rename(staging, destination) == 0 { return }
        if errno == ENOENT {
            try Self.makeFolders(of: destination)
            if rename(staging, destination) == 0 { return }
        }
        unlink(staging)
        if !FileManager.default.fileExists(atPath: destination) {
            throw MediaError.unwritable(path: destination)
        }
    }

    /// Largest file `put(fileAt:)` reads whole before writing it: larger ones are hashed while
    /// they are copied, through a staging file in the root.
    static let wholeReadLimit = 1 << 20

    /// Hashes the file at `sourcePath` and copies it in; returns what was stored.
    ///
    /// Plain file descriptors and one buffer sized to the file (up to 1 MiB): an import calls
    /// this once per image, and Foundation's file handles cost more than the copy of a small one.
    /// A file that fits the buffer is read whole and hashed first, so its staging file is made in
    /// the folder of its address and renamed within it: two importing threads staging in the
    /// root took turns at the root folder's lock for every create and rename (a twentieth of an
    /// import of small images went to that wait).
    public func put(fileAt sourcePath: String) throws -> StoredMedia {
        let input = open(sourcePath, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw MediaError.unreadable(path: sourcePath) }
        defer { close(input) }
        var status = stat()
        guard fstat(input, &status) == 0 else { throw MediaError.unreadable(path: sourcePath) }
        if Int(status.st_size) < Self.wholeReadLimit {
            return try putWhole(input, size: Int(status.st_size), sourcePath: sourcePath)
        }
        return try putStreaming(input, sourcePath: sourcePath, capacity: Self.wholeReadLimit)
    }

    /// `put(fileAt:)` for a large file: hashed while copied to a staging file in the root,
    /// which is then moved to its address.
    private func putStreaming(_ input: Int32, sourcePath: String, capacity: Int) throws -> StoredMedia {
        let staging = rootPrefix + "staging-\(UUID().uuidString)"
        let output = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw MediaError.unwritable(path: staging) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        var size: Int64 = 0
        var head: [UInt8] = []
        var outputOpen = true
        do {
            while true {
                let count = read(input, buffer.baseAddress, capacity)
                if count < 0, errno == EINTR { continue }
                guard count >= 0 else { throw MediaError.unreadable(path: sourcePath) }
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                hasher.update(bufferPointer: chunk)
                if head.count < 65_536 { head += chunk.prefix(65_536 - head.count) }
                guard Self.writeAll(chunk, to: output) else { throw MediaError.unwritable(path: staging) }
                size += Int64(count)
            }
            outputOpen = false
            guard close(output) == 0 else { throw MediaError.unwritable(path: staging) }
        } catch {
            if outputOpen { close(output) }
            unlink(staging)
            throw error
        }
        let sha = Self.hex(hasher.finalize())
        try place(stagingPath: staging, sha256: sha)
        let header = ImageHeader(bytes: head)
        return StoredMedia(
            sha256: sha, byteSize: size,
            mimeType: header?.mimeType ?? MediaType.mimeType(forPath: sourcePath),
            width: header?.width, height: header?.height)
    }
}

extension MediaStore {
    /// `put(fileAt:)` for a file of about `size` bytes (it may grow while read): read whole,
    /// hashed, then written to a staging file beside its address and renamed there.
    private func putWhole(_ input: Int32, size: Int, sourcePath: String) throws -> StoredMedia {
        // One byte more than the size: a file that grew since fstat is seen to, and streamed.
        let capacity = max(4096, size + 1)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var count = 0
        while count < capacity {
            let n = read(input, buffer.baseAddress! + count, capacity - count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw MediaError.unreadable(path: sourcePath) }
            if n == 0 { break }
            count += n
        }
        guard count < capacity else {
            // It grew: start over, copying as it is read.
            guard lseek(input, 0, SEEK_SET) == 0 else { throw MediaError.unreadable(path: sourcePath) }
            return try putStreaming(input, sourcePath: sourcePath, capacity: Self.wholeReadLimit)
        }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        let sha = Self.hex(SHA256.hash(data: bytes))
        let destination = path(for: sha)
        let folder = String(destination.dropLast(sha.count))
        let staging = folder + ".staging-\(UUID().uuidString)"
        var output = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if output < 0, errno == ENOENT {
            try Self.makeFolders(of: destination)
            output = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard output >= 0 else { throw MediaError.unwritable(path: staging) }
        guard Self.writeAll(bytes, to: output) else {
            close(output)
            unlink(staging)
            throw MediaError.unwritable(path: staging)
        }
        guard close(output) == 0 else {
            unlink(staging)
            throw MediaError.unwritable(path: staging)
        }
        // rename(2) is atomic: a reader never sees a half-written blob under its final name,
        // and bytes already there are replaced by the same bytes.
        guard rename(staging, destination) == 0 else {
            unlink(staging)
            throw MediaError.unwritable(path: destination)
        }
        let header = ImageHeader(bytes: Array(bytes.prefix(65_536)))
        return StoredMedia(
            sha256: sha, byteSize: Int64(count), mimeType: header?.mimeType ?? MediaType.mimeType(forPath: sourcePath),
            width: header?.width, height: header?.height)
    }
}

extension MediaStore {
    /// Makes the two shard folders of `destination` (`root/ab/cd/…`) that are missing, by
    /// mkdir(2): FileManager's createDirectory stats every component.
    static func makeFolders(of destination: String) throws {
        let inner = String(destination.dropLast(64 + 1)), outer = String(inner.dropLast(3))
        for folder in [outer, inner] where mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw MediaError.unwritable(path: folder)
        }
    }

    /// Writes all of `bytes` to `descriptor`, again after an interruption; false on a failure.
    static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> Bool {
        var written = 0
        while written < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            written += n
        }
        return true
    }

    /// A digest in lowercase hexadecimal, as media is addressed.
    public static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What `MediaStore.put` learnt about stored bytes.
public struct StoredMedia: Sendable, Hashable {
    public var sha256: String
    public var byteSize: Int64
    public var mimeType: String
    public var width: Int?
    public var height: Int?
    /// What the bytes hold, when recognised.
    public var fileType: FileType? = nil
}

/// Errors of the media store.
public enum MediaError: Error, CustomStringConvertible {
    case unreadable(path: String)
    case unwritable(path: String)
    /// Uploaded bytes whose SHA-256 is not the one the upload named.
    case hashMismatch(expected: String, actual: String)
    /// Bytes of no type Sluice holds.
    case unsupported(sha256: String)

    public var description: String {
        switch self {
        case .hashMismatch(let expected, let actual): "the bytes hash to \(actual), not \(expected)"
        case .unsupported: "the bytes are not an image, video or UTF-8 text Sluice recognises"
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
        case "mkv": "video/x-matroska"
        case "mov": "video/quicktime"
        case "txt": "text/plain"
        default: "application/octet-stream"
        }
    }
}

extension MediaStore {
    /// What the store holds under `sha256`: its size and what its bytes are; nil when it holds
    /// nothing there. Throws `MediaError.unsupported` for bytes of no type Sluice holds.
    public func describe(sha256: String) throws -> StoredMedia? {
        guard MediaStore.isSHA256(sha256) else { return nil }
        let path = path(for: sha256)
        guard let input = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? input.close() }
        let head = [UInt8](try input.read(upToCount: SniffedMedia.headLength) ?? Data())
        let size = try input.seekToEnd()
        guard let sniffed = SniffedMedia(head: head) else { throw MediaError.unsupported(sha256: sha256) }
        return StoredMedia(
            sha256: sha256, byteSize: Int64(size), mimeType: sniffed.mimeType, width: sniffed.width,
            height: sniffed.height, fileType: sniffed.fileType)
    }

    /// Largest text whose length `textLength` measures; a span on a longer one is not checked
    /// against its end.
    public static let maxMeasuredText = 64 << 20

    /// The length in Unicode scalars of the UTF-8 text stored under `sha256` (what span offsets
    /// count); nil when there is none, it is not UTF-8, or it is longer than `maxMeasuredText`.
    public func textLength(sha256: String) -> Int? {
        guard MediaStore.isSHA256(sha256) else { return nil }
        let path = path(for: sha256)
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
            size.intValue <= Self.maxMeasuredText, let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        return text.unicodeScalars.count
    }

    /// Whether `text` is a SHA-256 as media are named: 64 lowercase hex digits.
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Starts an upload: bytes are written to a staging file beside the blobs and reach their
    /// content address only when `MediaUpload.finish` has checked them.
    public func beginUpload() throws -> MediaUpload {
        let staging = rootPrefix + "staging-\(UUID().uuidString)"
        let descriptor = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw MediaError.unwritable(path: staging) }
        return MediaUpload(store: self, stagingPath: staging, descriptor: descriptor)
    }
}

/// An upload in progress: a staging file, the running hash and the first bytes (to sniff).
/// A value owned by the one task that receives the body. Exactly one of `discard` and
/// `finish` ends it: each closes the descriptor, and a second close could close a socket
/// that reused the number. A staging file left by a crash is never under a content address.
public struct MediaUpload: Sendable {
    let store: MediaStore
    let stagingPath: String
    let descriptor: Int32
    private var hasher = SHA256()
    private var head: [UInt8] = []
    public private(set) var byteCount: Int64 = 0

    init(store: MediaStore, stagingPath: String, descriptor: Int32) {
        self.store = store
        self.stagingPath = stagingPath
        self.descriptor = descriptor
    }

    /// Appends bytes (blocking file I/O: call it off the event loop).
    public mutating func write(_ bytes: [UInt8]) throws {
        hasher.update(data: bytes)
        if head.count < SniffedMedia.headLength { head.append(contentsOf: bytes.prefix(SniffedMedia.headLength - head.count)) }
        guard bytes.withUnsafeBytes({ MediaStore.writeAll($0, to: descriptor) }) else {
            throw MediaError.unwritable(path: stagingPath)
        }
        byteCount += Int64(bytes.count)
    }

    /// Removes the staging file: an upload cut off part-way leaves nothing behind. Not after `finish`.
    public func discard() {
        close(descriptor)
        unlink(stagingPath)
    }

    /// Checks the bytes (their hash against `expectedSHA256` when given, their type) and moves
    /// them to their content address. Ends the upload whatever happens: nothing stays behind
    /// when it throws, and `discard` must not follow.
    public func finish(expectedSHA256: String?) throws -> StoredMedia {
        let sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            unlink(stagingPath)
            throw MediaError.unwritable(path: stagingPath)
        }
        if let expectedSHA256, expectedSHA256 != sha {
            unlink(stagingPath)
            throw MediaError.hashMismatch(expected: expectedSHA256, actual: sha)
        }
        guard let sniffed = SniffedMedia(head: head) else {
            unlink(stagingPath)
            throw MediaError.unsupported(sha256: sha)
        }
        try store.place(stagingPath: stagingPath, sha256: sha)
        return StoredMedia(
            sha256: sha, byteSize: byteCount, mimeType: sniffed.mimeType, width: sniffed.width, height: sniffed.height,
            fileType: sniffed.fileType)
    }
}
