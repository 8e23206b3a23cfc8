import Foundation
import Synchronization

/// Which file, at which revision, sits at each position of one stream source (a dataset, or a
/// slice at one version), as far as the cache has seen: what turns a position into a cache key
/// without a request.
///
/// Stored as an append-only log of 24-byte records (three little-endian Int64), replayed on
/// open; a torn last record (a crash mid-append) is ignored:
/// - `(position ≥ 0, file id, revision)`: the item at `position`;
/// - `(-1, cursor, 0)`: the dataset's change feed has been read up to `cursor`;
/// - `(-2, start, end)`: positions `start..<end` changed, their entries are void.
///
/// The log is rewritten, compacted, when it has grown past twice its live entries. In memory a
/// manifest takes 16 bytes per position (16 MB for a million), whatever the window.
final class CacheManifest: Sendable {
    private struct State {
        var fileIDs: [Int64] = []
        /// -1: no entry.
        var revisions: [Int64] = []
        var live = 0
        var cursor: Int64?
        var records = 0
    }

    private let url: URL
    private let state = Mutex(State())

    static let noCursor: Int64 = -1
    static let changedRange: Int64 = -2

    init(url: URL) throws {
        self.url = url
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let bytes = [UInt8](data)
        state.withLock { state in
            var offset = 0
            while offset + 24 <= bytes.count {
                let a = Self.int64(bytes, offset), b = Self.int64(bytes, offset + 8), c = Self.int64(bytes, offset + 16)
                Self.apply(&state, a, b, c)
                state.records += 1
                offset += 24
            }
        }
    }

    /// The change-feed cursor the entries are exact at; nil for a new manifest.
    var cursor: Int64? { state.withLock { $0.cursor } }

    /// The file id and revision at `position`, when known.
    func entry(at position: Int) -> (fileID: Int64, revision: Int64)? {
        state.withLock { state in
            guard position < state.revisions.count, state.revisions[position] >= 0 else { return nil }
            return (state.fileIDs[position], state.revisions[position])
        }
    }

    /// Records items seen at positions.
    func record(_ entries: [(position: Int, fileID: Int64, revision: Int64)]) throws {
        guard !entries.isEmpty else { return }
        try append(entries.map { (Int64($0.position), $0.fileID, $0.revision) })
    }

    /// Records that the feed was read up to `cursor`, voiding the positions of its changes.
    func advance(to cursor: Int64, changed: [Range<Int>]) throws {
        try append(changed.map { (Self.changedRange, Int64($0.lowerBound), Int64($0.upperBound)) } + [(Self.noCursor, cursor, 0)])
    }

    private func append(_ records: [(Int64, Int64, Int64)]) throws {
        let compact = try state.withLock { state -> Bool in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(records.count * 24)
            for (a, b, c) in records {
                Self.apply(&state, a, b, c)
                for value in [a, b, c] { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
            }
            state.records += records.count
            try Self.appendBytes(bytes, to: url)
            return state.records > 2 * state.live + 4096
        }
        if compact { try self.compact() }
    }

    /// Rewrites the log as its live entries and cursor, through a renamed temporary file.
    private func compact() throws {
        try state.withLock { state in
            var bytes: [UInt8] = []
            var count = 0
            func put(_ a: Int64, _ b: Int64, _ c: Int64) {
                for value in [a, b, c] { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
                count += 1
            }
            for position in state.revisions.indices where state.revisions[position] >= 0 {
                put(Int64(position), state.fileIDs[position], state.revisions[position])
            }
            if let cursor = state.cursor { put(Self.noCursor, cursor, 0) }
            let temporary = url.deletingLastPathComponent().appending(path: ".\(url.lastPathComponent).\(UUID().uuidString)")
            try Data(bytes).write(to: temporary)
            _ = try FileManager.default.replaceItemAt(url, withItemAt: temporary)
            state.records = count
        }
    }

    private static func apply(_ state: inout State, _ a: Int64, _ b: Int64, _ c: Int64) {
        switch a {
        case noCursor:
            state.cursor = b
        case changedRange:
            let end = min(Int(c), state.revisions.count)
            guard b >= 0, Int(b) < end else { return }
            for position in Int(b)..<end where state.revisions[position] >= 0 {
                state.revisions[position] = -1
                state.live -= 1
            }
        case 0...:
            let position = Int(a)
            if position >= state.revisions.count {
                let grown = max(position + 1, state.revisions.count * 2)
                state.fileIDs += [Int64](repeating: 0, count: grown - state.fileIDs.count)
                state.revisions += [Int64](repeating: -1, count: grown - state.revisions.count)
            }
            if state.revisions[position] < 0 { state.live += 1 }
            state.fileIDs[position] = b
            state.revisions[position] = c
        default:
            return
        }
    }

    private static func appendBytes(_ bytes: [UInt8], to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            // A file that cannot be made fails the open below, with the reason.
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
    }

    private static func int64(_ bytes: [UInt8], _ offset: Int) -> Int64 {
        var value: Int64 = 0
        for index in 0..<8 { value |= Int64(bytes[offset + index]) << (8 * index) }
        return value
    }
}
