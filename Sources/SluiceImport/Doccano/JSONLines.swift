import Foundation

/// The lines of a JSON Lines file, read a chunk at a time: memory holds one line, whatever the
/// file's size. Lines are numbered from 1; a trailing `\r` is dropped, blank lines are skipped.
struct JSONLines {
    /// Longest line read: a Doccano line holds one document and its spans.
    static let maxLineBytes = 16 << 20

    let path: String
    /// The file's name in errors (relative to the imported folder).
    let relative: String

    /// Calls `body` with each non-blank line's number and bytes, and the bytes read so far.
    func forEach(_ body: (_ number: Int, _ line: ArraySlice<UInt8>, _ bytesRead: Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError.unreadable(path: relative) }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var number = 0
        var consumed = 0
        func emit(_ line: ArraySlice<UInt8>) throws {
            number += 1
            consumed += line.count + 1
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
            try body(number, line, consumed)
        }
        while true {
            try Task.checkCancellation()
            guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else { break }
            pending.append(contentsOf: chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try emit(pending[start..<newline])
                start = newline + 1
            }
            pending.removeSubrange(..<start)
            guard pending.count <= Self.maxLineBytes else {
                throw ImportError.invalid(
                    file: relative, line: number + 1, path: "", message: "the line is longer than \(Self.maxLineBytes) bytes")
            }
        }
        if !pending.isEmpty { try emit(pending[...]) }
    }
}
