import Hummingbird
import SluiceModel
import SluiceStore

/// `/datasets/{id}`: count, item by position, pages of items by position range.
struct DatasetRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let store = api.store
        let configuration = api.configuration
        registry.get("/datasets/{id}") { _, context in
            try .json(try await Self.dataset(store, context))
        }
        registry.get("/datasets/{id}/count") { _, context in
            try .json(CountResponse(count: try await Self.dataset(store, context).count))
        }
        registry.get("/datasets/{id}/items/{position}") { _, context in
            let dataset = try await Self.dataset(store, context)
            let position = try context.position(count: dataset.count, of: "dataset \(dataset.id)")
            guard let item = try await store.storedItem(datasetID: dataset.id, position: position) else {
                throw APIError.notFound("position \(position) of dataset \(dataset.id) is gone")
            }
            var out = JSONOutput(capacity: 4096)
            out.item(item)
            return .json(bytes: out.bytes)
        }
        registry.get("/datasets/{id}/items") { request, context in
            let dataset = try await Self.dataset(store, context)
            let range = try request.pageRange(count: dataset.count, configuration)
            let items = try await store.storedItems(datasetID: dataset.id, range: range)
            return .json(bytes: Self.pageJSON(datasetID: dataset.id, start: range.lowerBound, count: dataset.count, items: items))
        }
    }

    /// An `ItemPage` in wire JSON; `count` is the whole dataset's (or slice's).
    static func pageJSON(datasetID: Int64, start: Int, count: Int, items: [StoredItem]) -> [UInt8] {
        var out = JSONOutput(capacity: 1024 + items.count * 2048)
        out.raw("{\"dataset_id\":")
        out.integer(datasetID)
        out.raw(",\"start\":")
        out.integer(start)
        out.raw(",\"end\":")
        out.integer(start + items.count)
        out.raw(",\"count\":")
        out.integer(count)
        out.raw(",\"items\":[")
        for (i, item) in items.enumerated() {
            if i > 0 { out.raw(UInt8(ascii: ",")) }
            out.item(item)
        }
        out.raw("]}")
        return out.bytes
    }

    static func dataset(_ store: any Store, _ context: SluiceRequestContext) async throws -> Dataset {
        let id = try context.id("id")
        guard let dataset = try await store.dataset(id: id) else {
            throw APIError.notFound("no dataset with id \(id)")
        }
        return dataset
    }
}
