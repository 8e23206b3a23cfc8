import Hummingbird
import SluiceModel
import SluiceStore

/// Writes of files and instances (docs/writes.md): files appended to a dataset with their
/// annotation, removed from it, copied or moved between datasets; a file's instances added,
/// replaced, changed and deleted.
///
/// Instance writes take the file's revision as `If-Match` (optimistic concurrency): a write
/// naming a revision the file no longer has is refused with 412 and the current revision, so
/// two annotators never silently overwrite each other. Every reply carries the file's new
/// revision as its `ETag`.
struct AnnotationRoutes {
    let api: APIContext

    struct AppendFiles: Decodable {
        var files: [FileDraft]
        var createLabels: Bool?
        enum CodingKeys: String, CodingKey {
            case files
            case createLabels = "create_labels"
        }
    }

    struct WriteInstances: Decodable {
        var instances: [InstanceDraft]
        var createLabels: Bool?
        enum CodingKeys: String, CodingKey {
            case instances
            case createLabels = "create_labels"
        }
    }

    struct AppendedFiles: Encodable {
        var files: [AppendedFile]
    }

    struct CopyFiles: Decodable {
        var fileIDs: [Int64]
        var from: Int64?
        var move: Bool?
        enum CodingKeys: String, CodingKey {
            case from, move
            case fileIDs = "file_ids"
        }
    }

    /// Files one append request may carry: bounded so one request is one short transaction.
    static let maxFilesPerAppend = 10_000

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        let store = api.store
        registry.post("/datasets/{id}/files") { request, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let body = try await request.decodeBody(as: AppendFiles.self, context: context, limits: api.configuration)
            guard body.files.count <= Self.maxFilesPerAppend else {
                throw APIError.badParameter("files", "at most \(Self.maxFilesPerAppend) files per request")
            }
            let appended = try await store.appendFiles(
                datasetID: dataset.id, body.files, createLabels: body.createLabels ?? false)
            return try .json(AppendedFiles(files: appended), status: .created)
        }
        registry.on(.delete, "/datasets/{id}/files/{file}") { _, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let fileID = try context.id("file")
            do {
                return try .json(try await store.removeFiles(datasetID: dataset.id, fileIDs: [fileID]))
            } catch StoreError.invalidField {
                // The path names a file the dataset does not hold: that resource is not there.
                throw APIError.notFound("dataset \(dataset.id) does not hold file \(fileID)")
            }
        }
        registry.post("/datasets/{id}/files/copy") { request, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let body = try await request.decodeBody(as: CopyFiles.self, context: context, limits: api.configuration)
            guard body.fileIDs.count <= Self.maxFilesPerAppend else {
                throw APIError.badParameter("file_ids", "at most \(Self.maxFilesPerAppend) files per request")
            }
            if let from = body.from, from < 0 {
                throw APIError(
                    .badRequest, code: "bad_body", message: "'from' must not be negative", detail: .object(["field": "from"]))
            }
            if body.move == true, body.from == nil {
                throw StoreError.invalidField(FieldError(path: "from", message: "a move names the dataset the files leave"))
            }
            let appended = try await store.copyFiles(
                body.fileIDs, into: dataset.id, movingFrom: body.move == true ? body.from : nil)
            return try .json(AppendedFiles(files: appended), status: .created)
        }
        registry.get("/files/{id}/instances") { _, context in
            let id = try context.id("id")
            guard let file = try await store.annotatedFile(id: id) else { throw APIError.notFound("no file with id \(id)") }
            return try Self.reply(file)
        }
        registry.post("/files/{id}/instances") { request, context in
            let body = try await request.decodeBody(as: WriteInstances.self, context: context, limits: api.configuration)
            let file = try await store.editInstances(
                fileID: try context.id("id"), .add(body.instances), expectedRevision: try Self.ifMatch(request),
                createLabels: body.createLabels ?? false)
            return try Self.reply(file, status: .created)
        }
        registry.on(.put, "/files/{id}/instances") { request, context in
            let body = try await request.decodeBody(as: WriteInstances.self, context: context, limits: api.configuration)
            let file = try await store.editInstances(
                fileID: try context.id("id"), .replaceAll(body.instances), expectedRevision: try Self.ifMatch(request),
                createLabels: body.createLabels ?? false)
            return try Self.reply(file)
        }
        registry.on(.patch, "/files/{id}/instances/{instance}") { request, context in
            let draft = try await request.decodeBody(as: InstanceDraft.self, context: context, limits: api.configuration)
            let file = try await store.editInstances(
                fileID: try context.id("id"), .update(id: try context.id("instance"), draft),
                expectedRevision: try Self.ifMatch(request),
                createLabels: try request.boolean("create_labels", default: false))
            return try Self.reply(file)
        }
        registry.on(.delete, "/files/{id}/instances/{instance}") { request, context in
            let file = try await store.editInstances(
                fileID: try context.id("id"), .delete(ids: [try context.id("instance")]),
                expectedRevision: try Self.ifMatch(request), createLabels: false)
            return try Self.reply(file)
        }
    }

    static func reply(_ file: AnnotatedFile, status: HTTPResponse.Status = .ok) throws -> Response {
        var response = try Response.json(file, status: status)
        response.headers[.eTag] = "\"\(file.file.revision)\""
        return response
    }

    /// The revision `If-Match` names: `"12"`, `W/"12"` or `12`; nil without the header.
    /// `*` matches any revision of an existing file, so it is no condition here.
    static func ifMatch(_ request: Request) throws -> Int64? {
        guard let header = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), header != "*" else {
            return nil
        }
        var text = Substring(header)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        text = text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 ? text.dropFirst().dropLast() : text
        guard let revision = Int64(text) else {
            throw APIError(
                .badRequest, code: "bad_parameter", message: "If-Match: expected a file revision such as \"12\", got \(header)",
                detail: .object(["parameter": .string("If-Match")]))
        }
        return revision
    }
}

import Foundation
