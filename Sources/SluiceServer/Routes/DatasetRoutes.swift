import Hummingbird
import SluiceModel
import SluiceStore

/// `/datasets/{id}`: count, item by position, pages of items by position range; each at the
/// current version, or at the one a `version` parameter names (a number or a snapshot name).
struct DatasetRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let store = api.store
        let configuration = api.configuration
        registry.get("/datasets/{id}") { _, context in
            try .json(try await Self.dataset(store, context))
        }
        registry.get("/datasets/{id}/count") { request, context in
            let dataset = try await Self.dataset(store, context)
            let version = try await VersionRoutes.requested(store, dataset, request)
            return try .json(CountResponse(count: version?.count ?? dataset.count))
        }
        registry.get("/datasets/{id}/items/{position}") { request, context in
            let dataset = try await Self.dataset(store, context)
            let version = try await VersionRoutes.requested(store, dataset, request)
            let position = try context.position(count: version?.count ?? dataset.count, of: "dataset \(dataset.id)")
            guard let item = try await Self.items(store, dataset, position..<(position + 1), at: version).first else {
                throw APIError.notFound("position \(position) of dataset \(dataset.id) is gone")
            }
            // Positions never move: a removed file leaves its position, which holds nothing now.
            guard !item.isRemoved else {
                throw APIError(
                    .gone, code: "removed", message: "the file at position \(position) was removed from dataset \(dataset.id)",
                    detail: .object(["position": .number(Double(position)), "file_id": .number(Double(item.file.id))]))
            }
            var out = JSONOutput(capacity: 4096)
            out.item(item)
            return .json(bytes: out.bytes)
        }
        registry.get("/datasets/{id}/items") { request, context in
            let dataset = try await Self.dataset(store, context)
            let version = try await VersionRoutes.requested(store, dataset, request)
            let count = version?.count ?? dataset.count
            let range = try request.pageRange(count: count, configuration)
            let items = try await Self.items(store, dataset, range, at: version)
            return .json(bytes: Self.pageJSON(datasetID: dataset.id, start: range.lowerBound, count: count, items: items))
        }
    }

    /// The items at `range`, now or at a version.
    static func items(_ store: any Store, _ dataset: Dataset, _ range: Range<Int>, at version: VersionPoint?) async throws
        -> [StoredItem]
    {
        if let version { return try await store.storedItems(datasetID: dataset.id, range: range, at: version) }
        return try await store.storedItems(datasetID: dataset.id, range: range)
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
