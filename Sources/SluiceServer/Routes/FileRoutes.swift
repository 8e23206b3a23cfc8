import Hummingbird
import SluiceModel
import SluiceStore

/// `/files/{id}`: a file's record and its media bytes (ETag, conditional and range requests).
struct FileRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let store = api.store
        let fileIO = api.fileIO
        registry.get("/files/{id}") { _, context in
            try .json(try await Self.file(store, context))
        }
        registry.get("/files/{id}/media") { request, context in
            let file = try await Self.file(store, context)
            guard let sha = file.media.sha256, let size = file.media.byteSize else {
                throw APIError.notFound("file \(file.id) has no stored media", code: "no_media")
            }
            let path = store.media.path(for: sha)
            // Content-addressed: the hash is a strong validator that never changes for this URL's bytes.
            let etag = "\"\(sha)\""
            var headers: HTTPFields = [
                .eTag: etag, .acceptRanges: "bytes", .contentType: MediaContentType.served(file.media.mimeType),
                .cacheControl: "public, max-age=31536000, immutable",
            ]
            if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
                return Response(status: .notModified, headers: headers)
            }
            if let rangeHeader = request.headers[.range], size > 0 {
                let ifRange = request.headers[.ifRange]
                if ifRange == nil || ifRange == etag {
                    guard let range = ByteRange.parse(rangeHeader, size: Int(size)) else {
                        var response = try APIError(
                            .rangeNotSatisfiable, code: "range_not_satisfiable",
                            message: "range '\(rangeHeader)' is outside the \(size) bytes of the media"
                        ).response(from: request, context: context)
                        response.headers[.contentRange] = "bytes */\(size)"
                        return response
                    }
                    headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
                    headers[.contentLength] = String(range.count)
                    let body = try await fileIO.loadFile(path: path, range: range, context: context)
                    return Response(status: .partialContent, headers: headers, body: body)
                }
            }
            headers[.contentLength] = String(size)
            let body = try await fileIO.loadFile(path: path, context: context)
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    static func file(_ store: any Store, _ context: SluiceRequestContext) async throws -> File {
        let id = try context.id("id")
        guard let file = try await store.file(id: id) else { throw APIError.notFound("no file with id \(id)") }
        return file
    }
}

/// A single byte range of an HTTP `Range` header (RFC 9110 §14.1.2).
enum ByteRange {
    /// The closed range the header asks for within `size` bytes; nil when unsatisfiable or
    /// not a single `bytes=` range.
    static func parse(_ header: String, size: Int) -> ClosedRange<Int>? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(first), start >= 0, start < size else { return nil }
        if last.isEmpty { return start...(size - 1) }
        guard let end = Int(last), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}

import Foundation
