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
            let text = try context.parameters.require("position")
            guard let position = Int(text), position >= 0 else {
                throw APIError.badParameter("position", "expected a non-negative integer, got '\(text)'")
            }
            guard position < dataset.count,
                let item = try await store.storedItem(datasetID: dataset.id, position: position)
            else {
                throw APIError(
                    .notFound, code: "position_out_of_range",
                    message: "position \(position) is past the end of dataset \(dataset.id) (count \(dataset.count))",
                    detail: .object(["count": .number(Double(dataset.count))]))
            }
            var out = JSONOutput(capacity: 4096)
            out.item(item)
            return .json(bytes: out.bytes)
        }
        registry.get("/datasets/{id}/items") { request, context in
            let dataset = try await Self.dataset(store, context)
            let start = try request.integer("start", default: 0)
            guard start >= 0 else { throw APIError.badParameter("start", "must not be negative") }
            let end = try request.integer("end", default: start + configuration.defaultPageSize)
            guard end >= start else { throw APIError.badParameter("end", "must not be less than start") }
            // Clipped, not refused: a client follows `end` of the reply to its next request.
            let clippedEnd = max(start, min(end, dataset.count, start + configuration.maxPageSize))
            let items = try await store.storedItems(datasetID: dataset.id, range: start..<clippedEnd)
            return .json(bytes: Self.pageJSON(datasetID: dataset.id, start: start, count: dataset.count, items: items))
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
