import Hummingbird
import SluiceModel
import SluiceStore

/// One file with its instances (what every sample of iteration, `to_pytorch()` and
/// `to_tensorflow()` fetches) and the check that ids belong to the project.
struct DiffgramFileRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.post("/project/{project}/file/{file}/annotation/list", access: .read) { request, context in
            let project = try await DiffgramRoutes.project(api, context)
            let fileID = try context.id("file")
            let body = try await DiffgramRoutes.body(request, context)
            let item = try await Self.item(api, projectID: project.id, fileID: fileID, preferring: body["directory_id"]?.integerValue)
            let media = try await DiffgramMediaURL(api, request, project: project)
            var out = JSONOutput(capacity: 4096)
            out.raw("{\"file_serialized\":")
            try out.diffgramFile(item.file, mediaURL: media.url(for: item.file), instances: item.instances)
            out.raw("}")
            return .json(bytes: out.bytes)
        }
        registry.post("/v1/project/{project}/file/exists", access: .read) { request, context in
            let project = try await DiffgramRoutes.project(api, context)
            let body = try await DiffgramRoutes.body(request, context)
            guard case .array(let values)? = body["file_id_list"] else {
                throw APIError(.badRequest, code: "bad_body", message: "the request body needs 'file_id_list'")
            }
            let ids = values.compactMap(\.integerValue)
            let found = try await api.store.countFiles(projectID: project.id, ids: ids)
            let exists = ids.count == values.count && found == Set(ids).count
            var out = JSONOutput()
            out.raw("{\"result\":{\"exists\":")
            out.bool(exists)
            out.raw("}}")
            return .json(bytes: out.bytes)
        }
    }

    /// The file's item, read through a dataset that holds it (the SDK's `directory_id` when it
    /// does): the same stored-item read as `/datasets/{id}/items/{position}`.
    static func item(_ api: APIContext, projectID: String, fileID: Int64, preferring directoryID: Int64?)
        async throws -> StoredItem
    {
        guard let file = try await api.store.file(id: fileID), file.projectID == projectID else {
            throw APIError.notFound("no file with id \(fileID) in project '\(projectID)'")
        }
        let placements = try await api.store.placements(fileID: file.id)
        guard let placement = placements.first(where: { $0.datasetID == directoryID }) ?? placements.first,
            let item = try await api.store.storedItems(datasetID: placement.datasetID, positions: [placement.position]).first
        else {
            throw APIError.notFound("file \(fileID) is in no directory")
        }
        return item
    }
}
