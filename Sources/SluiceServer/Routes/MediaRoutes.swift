import Hummingbird
import MultipartKit
import NIOCore
import NIOPosix
import SluiceModel
import SluiceStore

/// `/projects/{project}/media`: content-addressed uploads. A client asks `HEAD …/media/{sha256}`
/// and uploads only what the server lacks, as a raw body (`PUT …/media/{sha256}`, checked
/// against the hash) or as multipart form data (`POST …/media`, browsers and the diffgram SDK).
///
/// The type comes from the bytes (magic numbers), never from a header or a name. Bytes go to
/// a staging file and reach their address only once checked: an upload cut off part-way, too
/// large, of the wrong hash or of no known type leaves nothing behind.
struct MediaRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.on(.head, "/projects/{project}/media/{sha256}", access: .write) { _, context in
            let sha = try Self.sha256(context)
            guard let media = try await Self.describe(api, sha) else {
                return Response(status: .notFound, headers: [.contentLength: "0"])
            }
            return Response(
                status: .ok,
                headers: [.contentLength: String(media.byteSize), .contentType: MediaContentType.served(media.mimeType), .eTag: "\"\(sha)\""])
        }
        registry.on(.put, "/projects/{project}/media/{sha256}") { request, context in
            let sha = try Self.sha256(context)
            if let existing = try await Self.describe(api, sha) {
                // Content addressing: the bytes are there already, the body is not needed.
                return try Self.reply(existing, created: false)
            }
            var upload = try api.store.media.beginUpload()
            do {
                for try await chunk in request.body {
                    try await Self.write(chunk, to: &upload, limit: api.configuration.maxMediaBytes)
                }
            } catch {
                upload.discard()
                throw error
            }
            return try Self.reply(try await Self.finish(upload, expecting: sha), created: true)
        }
        registry.post("/projects/{project}/media") { request, _ in
            guard let boundary = Self.boundary(request.headers[.contentType]) else {
                throw APIError(
                    .unsupportedMediaType, code: "unsupported_media_type",
                    message: "send multipart/form-data with a boundary, or PUT the raw bytes to /media/{sha256}")
            }
            var upload = try api.store.media.beginUpload()
            do {
                let part = FormPart(boundary: boundary)
                for try await chunk in request.body {
                    for bytes in try part.fileBytes(in: chunk) {
                        try await Self.write(ByteBuffer(bytes: bytes), to: &upload, limit: api.configuration.maxMediaBytes)
                    }
                }
                guard part.sawFile else {
                    throw APIError(.badRequest, code: "bad_body", message: "the form has no 'file' part")
                }
            } catch {
                upload.discard()
                throw error
            }
            return try Self.reply(try await Self.finish(upload, expecting: nil), created: true)
        }
    }

    static func sha256(_ context: SluiceRequestContext) throws -> String {
        let sha = try context.parameters.require("sha256")
        guard MediaStore.isSHA256(sha) else {
            throw APIError.badParameter("sha256", "expected 64 lowercase hex digits")
        }
        return sha
    }

    /// File I/O runs on NIO's blocking pool, never on an event loop.
    static func describe(_ api: APIContext, _ sha: String) async throws -> StoredMedia? {
        let media = api.store.media
        return try await NIOThreadPool.singleton.runIfActive { try? media.describe(sha256: sha) }
    }

    static func write(_ chunk: ByteBuffer, to upload: inout MediaUpload, limit: Int64) async throws {
        guard upload.byteCount + Int64(chunk.readableBytes) <= limit else {
            throw APIError(
                .contentTooLarge, code: "payload_too_large", message: "the upload is over the \(limit) bytes this server takes",
                detail: .object(["limit": .number(Double(limit))]))
        }
        let bytes = Array(chunk.readableBytesView)
        upload = try await NIOThreadPool.singleton.runIfActive { [upload] in
            var upload = upload
            try upload.write(bytes)
            return upload
        }
    }

    /// Ends the upload (never discard it after this).
    static func finish(_ upload: MediaUpload, expecting sha: String?) async throws -> StoredMedia {
        do {
            return try await NIOThreadPool.singleton.runIfActive { try upload.finish(expectedSHA256: sha) }
        } catch {
            throw mediaError(error)
        }
    }

    static func reply(_ media: StoredMedia, created: Bool) throws -> Response {
        var out = JSONOutput()
        out.object([
            "sha256": .string(media.sha256), "mime_type": .string(media.mimeType),
            "byte_size": .number(Double(media.byteSize)), "type": media.fileType.map { .string($0.rawValue) } ?? .null,
            "width": media.width.map { .number(Double($0)) } ?? .null,
            "height": media.height.map { .number(Double($0)) } ?? .null,
        ])
        return Response.json(bytes: out.bytes, status: created ? .created : .ok)
    }

    static func mediaError(_ error: any Error) -> any Error {
        switch error {
        case MediaError.hashMismatch(let expected, let actual):
            APIError(
                .unprocessableContent, code: "sha256_mismatch", message: "the bytes hash to \(actual), not \(expected)",
                detail: .object(["sha256": .string(actual)]))
        case MediaError.unsupported:
            APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "the bytes are not an image, video or UTF-8 text Sluice recognises")
        default: error
        }
    }

    /// The boundary of a `multipart/form-data` content type (RFC 7578 §4.1).
    static func boundary(_ contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}

/// Cuts the bytes of the form's `file` part out of a multipart body as it arrives, with
/// MultipartKit's streaming parser: the body is never held whole. Used by one request's task.
///
/// It can also keep small text parts whole (`keepingFields`): the diffgram SDK's `from_local`
/// sends its options as a `json` part after the file.
final class FormPart {
    private let parser: MultipartParser
    private var headerGuard: MultipartHeaderGuard
    private let keptFields: Set<String>
    private let fieldLimit: Int
    private var headers: [String: String] = [:]
    private var inFile = false
    private var field: String?
    private var oversizedField: String?
    private var pending: [[UInt8]] = []
    private(set) var sawFile = false
    /// The file part's `filename` as the client sent it, if it sent one.
    private(set) var fileName: String?
    /// The kept text parts, by name, as far as the body has been read.
    private(set) var fields: [String: [UInt8]] = [:]

    /// - Parameters:
    ///   - keepingFields: names of the parts to keep whole in `fields` (not the file's).
    ///   - fieldLimit: the most bytes a kept part may have; a larger one fails `fileBytes(in:)`.
    init(boundary: String, keepingFields: Set<String> = [], fieldLimit: Int = 0) {
        parser = MultipartParser(boundary: boundary)
        headerGuard = MultipartHeaderGuard(boundary: boundary)
        keptFields = keepingFields
        self.fieldLimit = fieldLimit
        parser.onHeader = { [unowned self] name, value in headers[name.lowercased()] = value }
        parser.onBody = { [unowned self] buffer in
            if headers.isEmpty == false, !inFile, field == nil {
                let disposition = headers["content-disposition"]
                if !sawFile, Self.isFilePart(disposition) {
                    inFile = true
                    fileName = Self.parameter("filename", of: disposition)
                } else if let name = Self.parameter("name", of: disposition), keptFields.contains(name) {
                    field = name
                }
            }
            if inFile {
                sawFile = true
                pending.append(Array(buffer.readableBytesView))
            } else if let field {
                fields[field, default: []].append(contentsOf: buffer.readableBytesView)
                if fields[field]!.count > fieldLimit { oversizedField = field }
            }
        }
        parser.onPartComplete = { [unowned self] in
            // A file part with no bytes calls no onBody: it is still the file (an empty one,
            // which the media check then refuses as no media).
            if !sawFile, !inFile, Self.isFilePart(headers["content-disposition"]) {
                sawFile = true
                fileName = Self.parameter("filename", of: headers["content-disposition"])
            }
            headers = [:]
            inFile = false
            field = nil
        }
    }

    /// The file part's bytes that `chunk` completes, in order.
    func fileBytes(in chunk: ByteBuffer) throws -> [[UInt8]] {
        do {
            try headerGuard.check(chunk.readableBytesView)
            try parser.execute(chunk)
        } catch {
            throw APIError(.badRequest, code: "bad_body", message: "the multipart body is malformed: \(error)")
        }
        if let oversizedField {
            throw APIError(
                .contentTooLarge, code: "payload_too_large",
                message: "the form's '\(oversizedField)' part is over the \(fieldLimit) bytes this server takes",
                detail: .object(["limit": .number(Double(fieldLimit))]))
        }
        defer { pending = [] }
        return pending
    }

    /// The part named `file` (the diffgram SDK's and an HTML form's name), or any part with a filename.
    static func isFilePart(_ disposition: String?) -> Bool {
        guard let disposition else { return false }
        return disposition.contains("name=\"file\"") || disposition.contains("filename=")
    }

    /// A parameter of a Content-Disposition (`name`, `filename`; RFC 7578 §4.2), unquoted. Quoted
    /// values may hold `;`, so the header is scanned, not split.
    static func parameter(_ wanted: String, of disposition: String?) -> String? {
        guard let disposition else { return nil }
        var rest = Substring(disposition)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop(while: { $0 == " " || $0 == "\t" })
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            let value: Substring
            if rest.first == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else { return nil }
                value = body[..<close]
                rest = body[body.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                value = rest[..<end]
                rest = rest[end...]
            }
            if name == wanted { return String(value).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}

import Foundation
