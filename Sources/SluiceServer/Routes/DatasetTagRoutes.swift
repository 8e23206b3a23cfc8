import Foundation
import Hummingbird
import SluiceModel
import SluiceStore

/// `/datasets/{id}/tags`: the names a query tests as `dataset.tag` (Diffgram's
/// `dataset_tag.tag`). Reading needs what reading the dataset needs; adding and removing
/// need an editor key, like every write. Every reply is the dataset's tags as they then are.
struct DatasetTagRoutes {
    let api: APIContext

    struct AddTags: Decodable {
        var tags: [String]
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        let store = api.store
        registry.get("/datasets/{id}/tags") { _, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            return try .json(DatasetTags(datasetID: dataset.id, tags: try await store.datasetTags(datasetID: dataset.id)))
        }
        registry.post("/datasets/{id}/tags") { request, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let body = try await request.decodeBody(as: AddTags.self, context: context, limits: api.configuration)
            let tags = try await store.addDatasetTags(datasetID: dataset.id, body.tags)
            return try .json(DatasetTags(datasetID: dataset.id, tags: tags))
        }
        registry.on(.delete, "/datasets/{id}/tags/{tag}") { _, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let tag = try Self.tag(context)
            return try .json(DatasetTags(datasetID: dataset.id, tags: try await store.removeDatasetTag(datasetID: dataset.id, tag)))
        }
    }

    /// The `{tag}` path segment, percent-decoded: the router hands segments over as sent, and a
    /// tag may hold any character but a control one (`/` as `%2F`, a space as `%20`).
    static func tag(_ context: SluiceRequestContext) throws -> String {
        let raw = try context.parameters.require("tag")
        guard let tag = raw.removingPercentEncoding else {
            throw APIError.badParameter("tag", "not a valid percent-encoded path segment: '\(raw)'")
        }
        return tag
    }
}
