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
}
