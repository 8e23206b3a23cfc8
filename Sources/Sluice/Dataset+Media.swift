import Foundation
import NIOCore

extension Dataset {
    /// The project's labels as this handle reads them: for a pinned handle (`at(_:)`), those
    /// that existed at its version, by the names they had then; otherwise `Project.labels()`.
    public func labels() async throws -> [Label] {
        var path = "/api/v1/projects/\(info.projectID.pathEscaped)/labels"
        if let pinnedVersion { path += "?dataset=\(id)&version=\(pinnedVersion)" }
        return try await connection.get(path)
    }

    /// Writes the media bytes of `file` (`GET /files/{id}/media`) to a new file at `path`, a
    /// chunk at a time: memory holds a chunk, not the file, so a video of gigabytes is fine.
    /// A broken transfer resumes where it stopped with a range request checked against the
    /// content address (`If-Range`), so what arrives before the break is not fetched again.
    /// Returns the bytes written; throws when they are not the file's recorded size.
    /// `onProgress` gets the bytes held so far after each chunk (or after a restart from 0, when
    /// the server could not answer a range).
    @discardableResult
    public func downloadMedia(of file: File, to path: String, onProgress: (Int) -> Void = { _ in }) async throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path)
        else { throw SluiceError.invalidArgument("cannot write \(path)") }
        defer { try? handle.close() }
        let route = "/api/v1/files/\(file.id)/media"
        let retry = connection.configuration.retry
        var written = 0
        var attempt = 1
        while true {
            let before = written
            // Without a validator a part could splice two contents: ask for the whole again.
            let resume = written > 0 ? file.media.sha256.map { [("Range", "bytes=\(written)-"), ("If-Range", "\"\($0)\"")] } : nil
            do {
                _ = try await connection.stream(route, headers: resume ?? []) { status in
                    if status != 206, written > 0 {
                        try handle.truncate(atOffset: 0)
                        written = 0
                        onProgress(0)
                    }
                } onChunk: { chunk in
                    try handle.write(contentsOf: chunk.readableBytesView)
                    written += chunk.readableBytes
                    onProgress(written)
                }
                break
            } catch let failure as Connection.TransientFailure {
                // Progress resets the count: a slow link that keeps moving keeps going.
                if written > before { attempt = 1 }
                guard attempt < retry.maxAttempts else {
                    throw SluiceError.unreachable(host: connection.configuration.host, reason: failure.reason)
                }
                try await Task.sleep(for: retry.delay(after: attempt))
                attempt += 1
            }
        }
        if let size = file.media.byteSize, Int64(written) != size {
            throw SluiceError.badResponse("file \(file.id)'s media is \(size) bytes, the server sent \(written)")
        }
        return written
    }
}
