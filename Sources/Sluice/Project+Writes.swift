import Crypto
import Foundation
import NIOCore

/// Media bytes as the server holds them after an upload.
public struct UploadedMedia: Sendable, Hashable, Decodable {
    public var sha256: String
    public var mimeType: String
    public var byteSize: Int64
    /// `image`, `video` or `text`, read by the server from the bytes.
    public var type: FileType?
    public var width: Int?
    public var height: Int?

    enum CodingKeys: String, CodingKey {
        case sha256, type, width, height
        case mimeType = "mime_type"
        case byteSize = "byte_size"
    }
}

/// Writes through the API (docs/writes.md). Each needs an API key with the editor role.
extension Project {
    /// Uploads media bytes unless the server holds them already (asked by SHA-256 first), and
    /// returns what the server holds. The server reads the type and size from the bytes.
    public func uploadMedia(_ bytes: [UInt8]) async throws -> UploadedMedia {
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let path = "/api/v1/projects/\(id.pathEscaped)/media/\(sha)"
        // PUT of bytes the server holds answers at once with their description: one request
        // either way, and only missing bytes cross the network in full when asked first.
        if try await connection.exists(path) == false {
            return try await connection.send(.PUT, path, body: ByteBuffer(bytes: bytes), contentType: "application/octet-stream")
        }
        return try await connection.send(.PUT, path, body: ByteBuffer(), contentType: "application/octet-stream")
    }

    /// Uploads the file at `url` (see `uploadMedia(_:)`).
    public func uploadMedia(contentsOf url: URL) async throws -> UploadedMedia {
        try await uploadMedia([UInt8](try Data(contentsOf: url)))
    }

    /// Creates a label; `SluiceError.server` 409 when the project has one of that name.
    public func createLabel(name: String, color: String? = nil, keypointNames: [String]? = nil) async throws -> Label {
        struct Body: Encodable {
            var name: String
            var color: String?
            var keypoint_names: [String]?
        }
        return try await connection.send(
            .POST, "/api/v1/projects/\(id.pathEscaped)/labels", json: Body(name: name, color: color, keypoint_names: keypointNames))
    }

    /// Renames a label: items with its instances change, earlier versions keep the old name.
    public func renameLabel(id labelID: Int64, to name: String) async throws -> Label {
        try await connection.send(.PATCH, "/api/v1/projects/\(id.pathEscaped)/labels/\(labelID)", json: ["name": name])
    }

    /// Deletes a label no live instance carries (`SluiceError.server` 409 otherwise). Its
    /// tensor index stays taken: no other label's index moves.
    public func deleteLabel(id labelID: Int64) async throws {
        try await connection.send(.DELETE, "/api/v1/projects/\(id.pathEscaped)/labels/\(labelID)")
    }

    /// A file with its live instances; `file.revision` is what `ifRevision` takes.
    public func annotation(fileID: Int64) async throws -> AnnotatedFile {
        try await connection.get("/api/v1/files/\(fileID)/instances")
    }

    /// Replaces a file's whole annotation (what an annotation tool's save does). With
    /// `ifRevision`, a file changed since that revision is refused with
    /// `SluiceError.staleRevision` and nothing is written.
    public func replaceInstances(
        fileID: Int64, with instances: [InstanceDraft], ifRevision: Int64? = nil, createLabels: Bool = false
    ) async throws -> AnnotatedFile {
        try await connection.send(
            .PUT, "/api/v1/files/\(fileID)/instances", json: InstanceList(instances: instances, create_labels: createLabels),
            ifRevision: ifRevision)
    }

    /// Adds instances to a file.
    public func addInstances(
        fileID: Int64, _ instances: [InstanceDraft], ifRevision: Int64? = nil, createLabels: Bool = false
    ) async throws -> AnnotatedFile {
        try await connection.send(
            .POST, "/api/v1/files/\(fileID)/instances", json: InstanceList(instances: instances, create_labels: createLabels),
            ifRevision: ifRevision)
    }

    /// Replaces one instance; its new state gets a new id (the old one stays in earlier versions).
    public func updateInstance(fileID: Int64, instanceID: Int64, to draft: InstanceDraft, ifRevision: Int64? = nil)
        async throws -> AnnotatedFile
    {
        try await connection.send(.PATCH, "/api/v1/files/\(fileID)/instances/\(instanceID)", json: draft, ifRevision: ifRevision)
    }

    /// Deletes one instance.
    public func deleteInstance(fileID: Int64, instanceID: Int64, ifRevision: Int64? = nil) async throws -> AnnotatedFile {
        try await connection.send(.DELETE, "/api/v1/files/\(fileID)/instances/\(instanceID)", body: nil, ifRevision: ifRevision)
    }

    /// Creates an API key of the project (needs an admin key of it, or a server admin key)
    /// and returns it as `client_id:secret`: the only time the secret is seen.
    public func createKey(role: String) async throws -> String {
        struct Reply: Decodable, Sendable { var key: String }
        let reply: Reply = try await connection.send(.POST, "/api/v1/projects/\(id.pathEscaped)/keys", json: ["role": role])
        return reply.key
    }

    /// Makes the project public (readable without a key) or private (needs an admin key).
    public func setPublic(_ isPublic: Bool) async throws {
        let _: SluiceModel.Project = try await connection.send(
            .PATCH, "/api/v1/projects/\(id.pathEscaped)", json: ["public": isPublic])
    }

    struct InstanceList: Encodable {
        var instances: [InstanceDraft]
        var create_labels: Bool
    }
}

extension Dataset {
    /// Appends files with their instances, all or none, and returns where they landed. Their
    /// media must be on the server (`Project.uploadMedia`).
    public func append(_ files: [FileDraft], createLabels: Bool = false) async throws -> [AppendedFile] {
        struct Body: Encodable {
            var files: [FileDraft]
            var create_labels: Bool
        }
        struct Reply: Decodable, Sendable {
            var files: [AppendedFile]
        }
        let reply: Reply = try await reader.connection.send(
            .POST, "/api/v1/datasets/\(info.id)/files", json: Body(files: files, create_labels: createLabels))
        return reply.files
    }

    /// Removes a file from the dataset. Its position stays and reads as removed: `count` keeps
    /// it, iteration skips it, `dataset[i]` there throws (410), versions before keep it.
    /// Returns the dataset as it then is.
    @discardableResult
    public func remove(fileID: Int64) async throws -> SluiceModel.Dataset {
        try await reader.connection.send(.DELETE, "/api/v1/datasets/\(info.id)/files/\(fileID)", body: nil)
    }

    /// Appends files of the project held by other datasets (shared, not duplicated); with
    /// `movingFrom`, removes them from that dataset in the same transaction.
    public func copy(fileIDs: [Int64], movingFrom source: Dataset? = nil) async throws -> [AppendedFile] {
        struct Body: Encodable {
            var file_ids: [Int64]
            var from: Int64?
            var move: Bool
        }
        struct Reply: Decodable, Sendable {
            var files: [AppendedFile]
        }
        let reply: Reply = try await reader.connection.send(
            .POST, "/api/v1/datasets/\(info.id)/files/copy",
            json: Body(file_ids: fileIDs, from: source?.info.id, move: source != nil))
        return reply.files
    }
}

/// Progress of an import the server runs (`Project.importCOCO`).
public struct ServerImportProgress: Sendable, Hashable, Decodable {
    public var bytesRead: Int
    public var totalBytes: Int
    public var files: Int
    public var instances: Int
    public var elapsed: Double
    public var finishing: Bool
    /// The server's one-line rendering: counts, rate, percentage, ETA.
    public var line: String

    enum CodingKeys: String, CodingKey {
        case files, instances, elapsed, finishing, line
        case bytesRead = "bytes_read"
        case totalBytes = "total_bytes"
    }
}

/// What an import through the server wrote.
public struct ServerImportSummary: Sendable, Hashable, Decodable {
    public var datasetID: Int64
    public var files: Int
    public var instances: Int
    public var labels: Int
    public var media: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case files, instances, labels, media, seconds
        case datasetID = "dataset_id"
    }
}

extension Project {
    /// Uploads the file at `path` unless the server holds its bytes already, reading it in
    /// chunks (memory flat in the file's size); `progress` gets the bytes sent so far.
    public func uploadMedia(fileAt path: String, progress: (@Sendable (Int64) -> Void)? = nil) async throws
        -> UploadedMedia
    {
        let sha = try Self.sha256(ofFileAt: path)
        let route = "/api/v1/projects/\(id.pathEscaped)/media/\(sha)"
        guard try await connection.exists(route) == false else {
            return try await connection.send(.PUT, route, body: ByteBuffer(), contentType: "application/octet-stream")
        }
        return try await connection.upload(route, fileAt: path, progress: progress)
    }

    /// The SHA-256 of a file, read in 1 MiB chunks.
    static func sha256(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SluiceError.invalidArgument("cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Asks the server to import a COCO file uploaded before (`uploadMedia`) into `dataset`
    /// (created when missing), in one transaction; `mediaList` is the upload of the
    /// `sha256<TAB>file_name` lines that give each image's bytes. `progress` is called about
    /// twice a second. Throws `SluiceError.server` with the fault (JSON path and line) when the
    /// import is refused; nothing of it is kept then.
    public func importCOCO(
        dataset: String, annotationsSHA256: String, mediaListSHA256: String? = nil,
        progress: (ServerImportProgress) -> Void = { _ in }
    ) async throws -> ServerImportSummary {
        struct Body: Encodable {
            var dataset: String
            var annotations_sha256: String
            var media_sha256: String?
        }
        let body = Body(dataset: dataset, annotations_sha256: annotationsSHA256, media_sha256: mediaListSHA256)
        return try await runImport("coco", body: body, progress: progress)
    }

    /// The folder formats an import through the server reads (`importFolder`).
    public enum FolderFormat: String, Sendable, CaseIterable {
        case voc, yolo, labelme, cvat, doccano
    }

    /// Asks the server to import a folder of `format` uploaded before: each file's bytes
    /// (`uploadMedia`) and `treeSHA256`, the upload of a listing of `sha256<TAB>relative/path`
    /// lines. `path` is the file or folder to import inside that tree (its root when nil);
    /// `images` and `video` name places in it as the CLI's `--images` and `--video` do. One
    /// transaction on the server; `progress` is called about twice a second. Throws
    /// `SluiceError.server` with the fault (file, line, element) when the import is refused;
    /// nothing of it is kept then.
    public func importFolder(
        _ format: FolderFormat, dataset: String, treeSHA256: String, path: String? = nil, images: String? = nil,
        video: String? = nil, progress: (ServerImportProgress) -> Void = { _ in }
    ) async throws -> ServerImportSummary {
        struct Body: Encodable {
            var dataset: String
            var tree_sha256: String
            var path: String?
            var images: String?
            var video: String?
        }
        let body = Body(dataset: dataset, tree_sha256: treeSHA256, path: path, images: images, video: video)
        return try await runImport(format.rawValue, body: body, progress: progress)
    }

    /// Posts an import and reads its NDJSON reply: progress lines, then a summary or a fault.
    private func runImport(
        _ format: String, body: some Encodable & Sendable, progress: (ServerImportProgress) -> Void
    ) async throws -> ServerImportSummary {
        var pending = ByteBuffer()
        var summary: ServerImportSummary?
        var failure: ImportReplyLine.Fault?
        try await connection.post("/api/v1/projects/\(id.pathEscaped)/imports/\(format)", json: body) { chunk in
            var chunk = chunk
            pending.writeBuffer(&chunk)
            while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - pending.readerIndex
                let bytes = pending.readBytes(length: length)!
                pending.moveReaderIndex(forwardBy: 1)
                let line = try JSONDecoder().decode(ImportReplyLine.self, from: Data(bytes))
                if let update = line.progress { progress(update) }
                if let done = line.summary { summary = done }
                if let error = line.error { failure = error }
            }
        }
        if let failure { throw SluiceError.server(status: 422, code: failure.code, message: failure.message) }
        guard let summary else { throw SluiceError.badResponse("the import's reply ended without a summary") }
        return summary
    }
}

/// One line of an import's NDJSON reply.
private struct ImportReplyLine: Decodable {
    struct Fault: Decodable {
        var code: String
        var message: String
    }
    var progress: ServerImportProgress?
    var summary: ServerImportSummary?
    var error: Fault?
}
