import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An optional on-disk cache of streamed items, so that a second epoch reads unchanged items
/// from disk, and can run with no server at all (`offline`).
///
///     let cache = try LocalCache(directory: URL(filePath: "/data/sluice-cache"), maxBytes: 20 << 30)
///     let project = try await Project(id: "coco", configuration: ClientConfiguration(cache: cache))
///
/// Entries are keyed by stream format, file id and the file's `revision`, which changes
/// whenever the item's content does, so an entry is never stale; which file sits at which
/// position comes from a per-dataset manifest that the dataset's change feed keeps exact (see
/// `CacheManifest`). Every entry carries a SHA-256 of its bytes: a damaged entry is detected
/// on read, deleted and fetched again. The cache is bounded by `maxBytes` and forgets the
/// least recently used entries first.
///
/// Several processes may share a directory: entries are written to a temporary file and
/// renamed into place, so a reader sees a whole entry or none.
public final class LocalCache: Sendable {
    public let directory: URL
    /// The most bytes the entries may take; past it, the least recently used go.
    public let maxBytes: Int
    /// No request at all: metadata and items come from the cache, and an item it does not
    /// hold fails with `SluiceError.notCached`.
    public let offline: Bool

    /// What the cache did since it was opened.
    public struct Statistics: Sendable, Hashable {
        public var hits = 0
        public var misses = 0
        /// Entries whose checksum did not match: deleted and fetched again.
        public var corrupted = 0
        public var evicted = 0
        public var entries = 0
        public var bytes = 0
    }

    private struct Entry {
        var size: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        var statistics = Statistics()
    }

    private let state = Mutex(State())
    private let manifests = Mutex<[String: CacheManifest]>([:])
    let itemsDirectory: URL
    let manifestsDirectory: URL

    private static let magic: [UInt8] = Array("SLC1".utf8)
    private static let headerSize = 4 + SHA256.byteCount

    /// Opens (or creates) the cache in `directory`; what an earlier run left there is used.
    public init(directory: URL, maxBytes: Int, offline: Bool = false) throws {
        self.directory = directory
        self.maxBytes = max(0, maxBytes)
        self.offline = offline
        itemsDirectory = directory.appending(path: "items", directoryHint: .isDirectory)
        manifestsDirectory = directory.appending(path: "manifests", directoryHint: .isDirectory)
        let files = FileManager.default
        try files.createDirectory(at: itemsDirectory, withIntermediateDirectories: true)
        try files.createDirectory(at: manifestsDirectory, withIntermediateDirectories: true)
        // Recency survives a restart through the files' modification times (touched on use).
        let found = try files.contentsOfDirectory(
            at: itemsDirectory, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
        var ordered: [(name: String, size: Int, date: Date)] = []
        for url in found where !url.lastPathComponent.hasPrefix(".") {
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
            ordered.append((url.lastPathComponent, values.fileSize ?? 0, values.contentModificationDate ?? .distantPast))
        }
        ordered.sort { $0.date < $1.date }
        state.withLock { state in
            for file in ordered {
                state.clock += 1
                state.entries[file.name] = Entry(size: file.size, lastUse: state.clock)
                state.bytes += file.size
            }
        }
    }

    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.entries = state.entries.count
            statistics.bytes = state.bytes
            return statistics
        }
    }

    /// The bytes stored under `key`, or nil when there are none or they are damaged (then
    /// they are deleted, so the caller's fetch replaces them). One copy: file to buffer.
    func read(_ key: String) -> ByteBuffer? {
        let known = state.withLock { $0.entries[key] != nil }
        guard known, let data = FileManager.default.contents(atPath: path(key)) else {
            state.withLock { $0.statistics.misses += 1 }
            return nil
        }
        var entry = ByteBuffer(data: data)
        guard entry.readBytes(length: Self.magic.count) == Self.magic,
            let checksum = entry.readBytes(length: SHA256.byteCount),
            checksum == Self.checksum(entry)
        else {
            remove(key)
            state.withLock {
                $0.statistics.corrupted += 1
                $0.statistics.misses += 1
            }
            return nil
        }
        _ = utimes(path(key), nil)
        state.withLock { state in
            state.clock += 1
            state.entries[key]?.lastUse = state.clock
            state.statistics.hits += 1
        }
        return entry
    }

    /// Stores `payload` under `key`, atomically, then evicts past `maxBytes`.
    func write(_ key: String, _ payload: ByteBuffer) throws {
        var file = ByteBuffer()
        file.reserveCapacity(Self.headerSize + payload.readableBytes)
        file.writeBytes(Self.magic)
        file.writeBytes(Self.checksum(payload))
        file.writeImmutableBuffer(payload)
        let size = file.readableBytes
        let temporary = itemsDirectory.appending(path: ".\(key).\(UUID().uuidString)")
        try Data(buffer: file, byteTransferStrategy: .noCopy).write(to: temporary)
        guard rename(temporary.path, path(key)) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw SluiceError.invalidArgument("cannot write the cache entry \(key): errno \(errno)")
        }
        let victims = state.withLock { state -> [String] in
            state.clock += 1
            state.bytes += size - (state.entries[key]?.size ?? 0)
            state.entries[key] = Entry(size: size, lastUse: state.clock)
            return Self.evictions(&state, keeping: key, maxBytes: maxBytes)
        }
        for victim in victims { try? FileManager.default.removeItem(atPath: path(victim)) }
    }

    private static func checksum(_ bytes: ByteBuffer) -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    /// Drops least recently used entries until the cache holds 90% of `maxBytes`: the slack
    /// keeps a full cache from sorting its entries on every write.
    private static func evictions(_ state: inout State, keeping key: String, maxBytes: Int) -> [String] {
        guard state.bytes > maxBytes else { return [] }
        let target = maxBytes - maxBytes / 10
        var victims: [String] = []
        for (name, entry) in state.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
            guard state.bytes > target else { break }
            guard name != key else { continue }
            state.bytes -= entry.size
            state.entries[name] = nil
            state.statistics.evicted += 1
            victims.append(name)
        }
        return victims
    }

    private func remove(_ key: String) {
        state.withLock { state in
            if let entry = state.entries.removeValue(forKey: key) { state.bytes -= entry.size }
        }
        try? FileManager.default.removeItem(atPath: path(key))
    }

    func path(_ key: String) -> String {
        itemsDirectory.appending(path: key).path
    }

    /// The manifest of a stream source, one object per source and cache.
    func manifest(_ name: String) throws -> CacheManifest {
        try manifests.withLock { manifests in
            if let manifest = manifests[name] { return manifest }
            let manifest = try CacheManifest(url: manifestsDirectory.appending(path: name))
            manifests[name] = manifest
            return manifest
        }
    }

    // Metadata replies (a project, its datasets, a slice), kept for offline runs.

    func storeReply(_ key: String, _ body: ByteBuffer) {
        try? write(Self.replyKey(key), body)
    }

    func reply(_ key: String) -> ByteBuffer? {
        read(Self.replyKey(key))
    }

    private static func replyKey(_ key: String) -> String {
        "reply-" + SHA256.hash(data: Array(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
