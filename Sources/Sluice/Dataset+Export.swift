import NIOCore

extension Dataset {
    /// Streams the server's export of this dataset (`GET /datasets/{id}/export`) to `onChunk`
    /// as the bytes arrive: `format` is `coco` or `sluice-json`; `query` exports a slice,
    /// `version` a version of the dataset. Returns the number of items exported.
    ///
    /// Not retried: a document cut in the middle cannot be resumed, so a broken transfer
    /// throws and the caller starts again.
    @discardableResult
    public func export(
        format: String, query: String? = nil, version: String? = nil, onChunk: ([UInt8]) throws -> Void
    ) async throws -> Int {
        var path = "/api/v1/datasets/\(id)/export?format=\(format.queryEscaped)"
        if let query { path += "&query=\(query.queryEscaped)" }
        if let version { path += "&version=\(version.queryEscaped)" }
        do {
            let headers = try await connection.stream(path) { chunk in
                try onChunk(Array(chunk.readableBytesView))
            }
            return headers.first(name: "Sluice-Count").flatMap { Int($0) } ?? 0
        } catch let failure as Connection.TransientFailure {
            throw SluiceError.unreachable(host: connection.configuration.host, reason: failure.reason)
        }
    }
}
