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
                    switch ByteRange.parse(rangeHeader, size: Int(size)) {
                    case .ignored:
                        break
                    case .unsatisfiable:
                        var response = try APIError(
                            .rangeNotSatisfiable, code: "range_not_satisfiable",
                            message: "range '\(rangeHeader)' is outside the \(size) bytes of the media"
                        ).response(from: request, context: context)
                        response.headers[.contentRange] = "bytes */\(size)"
                        return response
                    case .satisfiable(let range):
                        headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
                        headers[.contentLength] = String(range.count)
                        let body = try await fileIO.loadFile(path: path, range: range, context: context)
                        return Response(status: .partialContent, headers: headers, body: body)
                    }
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
enum ByteRange: Equatable {
    /// Not one `bytes=` range this server reads (another unit, several ranges, not the
    /// syntax): RFC 9110 §14.2 lets a server ignore it and send the whole content.
    case ignored
    /// A well-formed range that selects none of the bytes: 416.
    case unsatisfiable
    case satisfiable(ClosedRange<Int>)

    static func parse(_ header: String, size: Int) -> ByteRange {
        guard header.hasPrefix("bytes=") else { return .ignored }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .ignored }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), !(first.isEmpty && last.isEmpty)
        else { return .ignored }
        if first.isEmpty {
            guard let suffix = Int(last) else { return .ignored }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .satisfiable(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(first) else { return .unsatisfiable }  // past Int: past the end
        if !last.isEmpty {
            // A last byte past the end (even past Int) means "to the end".
            let end = Int(last) ?? Int.max
            guard end >= start else { return .ignored }
            return start < size ? .satisfiable(start...min(end, size - 1)) : .unsatisfiable
        }
        return start < size ? .satisfiable(start...(size - 1)) : .unsatisfiable
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

import Foundation
