import Hummingbird
import SluiceModel
import SluiceQuery
import SluiceStore

/// `/datasets/{id}/slices` and `/slices/{token}`: a query over a dataset, materialised once
/// and then read like a dataset (count, item at a position, pages of a range).
struct SliceRoutes {
    let api: APIContext

    struct CreateSlice: Decodable {
        var query: String
    }

    /// A slice as the API returns it.
    struct SliceInfo: Encodable {
        var id: String
        var datasetID: Int64
        var query: String
        var version: Int64
        var count: Int

        enum CodingKeys: String, CodingKey {
            case id, query, version, count
            case datasetID = "dataset_id"
        }
    }

    /// A slice resolved to its current materialisation.
    struct Resolved {
        var token: SliceToken
        var dataset: Dataset
        var positions: [Int]
        var query: CheckedQuery
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.post("/datasets/{id}/slices") { request, context in
            let dataset = try await DatasetRoutes.dataset(api.store, context)
            let body = try await request.decodeBody(as: CreateSlice.self, context: context)
            let resolved = try await Self.resolve(api, dataset: dataset, query: body.query)
            return try .json(Self.info(resolved), status: .created)
        }
        registry.get("/slices/{token}") { _, context in
            try .json(Self.info(try await Self.resolve(api, context)))
        }
        registry.get("/slices/{token}/count") { _, context in
            try .json(CountResponse(count: try await Self.resolve(api, context).positions.count))
        }
        registry.get("/slices/{token}/explain") { _, context in
            let resolved = try await Self.resolve(api, context)
            return try .json(try await api.store.explainMatching(datasetID: resolved.dataset.id, query: resolved.query))
        }
        registry.get("/slices/{token}/items/{position}") { _, context in
            let resolved = try await Self.resolve(api, context)
            let text = try context.parameters.require("position")
            guard let position = Int(text), position >= 0 else {
                throw APIError.badParameter("position", "expected a non-negative integer, got '\(text)'")
            }
            guard position < resolved.positions.count,
                var item = try await api.store.storedItems(
                    datasetID: resolved.dataset.id, positions: [resolved.positions[position]]
                ).first
            else {
                throw APIError(
                    .notFound, code: "position_out_of_range",
                    message: "position \(position) is past the end of the slice (count \(resolved.positions.count))",
                    detail: .object(["count": .number(Double(resolved.positions.count))]))
            }
            item.position = position
            var out = JSONOutput(capacity: 4096)
            out.item(item)
            return .json(bytes: out.bytes)
        }
        registry.get("/slices/{token}/items") { request, context in
            let resolved = try await Self.resolve(api, context)
            let count = resolved.positions.count
            let start = try request.integer("start", default: 0)
            guard start >= 0 else { throw APIError.badParameter("start", "must not be negative") }
            let end = try request.integer("end", default: start + api.configuration.defaultPageSize)
            guard end >= start else { throw APIError.badParameter("end", "must not be less than start") }
            let clippedEnd = max(start, min(end, count, start + api.configuration.maxPageSize))
            let positions = start < clippedEnd ? Array(resolved.positions[start..<clippedEnd]) : []
            var items = try await api.store.storedItems(datasetID: resolved.dataset.id, positions: positions)
            // Items come back in dataset order, which is slice order; renumber to slice positions.
            for index in items.indices { items[index].position = start + index }
            return .json(bytes: DatasetRoutes.pageJSON(datasetID: resolved.dataset.id, start: start, count: count, items: items))
        }
    }

    static func info(_ resolved: Resolved) -> SliceInfo {
        SliceInfo(
            id: resolved.token.encoded, datasetID: resolved.dataset.id, query: resolved.token.query,
            version: resolved.dataset.version, count: resolved.positions.count)
    }

    static func resolve(_ api: APIContext, _ context: SluiceRequestContext) async throws -> Resolved {
        let text = try context.parameters.require("token")
        guard let token = SliceToken(encoded: text) else {
            throw APIError.badParameter("token", "not a slice id")
        }
        guard let dataset = try await api.store.dataset(id: token.datasetID) else {
            throw APIError.notFound("no dataset with id \(token.datasetID)")
        }
        return try await resolve(api, dataset: dataset, query: token.query)
    }

    /// Checks the query against the project's names, then materialises it (or takes the cache's).
    static func resolve(_ api: APIContext, dataset: Dataset, query text: String) async throws -> Resolved {
        let checked: CheckedQuery
        let normalized: String
        do {
            let query = try QueryParser.parse(text)
            let schema = QuerySchema(
                labels: try await api.store.labels(projectID: dataset.projectID),
                attributeGroups: try await api.store.attributeGroups(projectID: dataset.projectID))
            checked = try query.checked(against: schema)
            normalized = query.normalized
        } catch let error as QueryError {
            throw APIError(
                .badRequest, code: "bad_query", message: error.message,
                detail: .object([
                    "column": .number(Double(error.column)),
                    "suggestions": .array(error.suggestions.map { .string($0) }),
                    "excerpt": .string(error.description),
                ]))
        }
        let key = SliceCache.Key(datasetID: dataset.id, version: dataset.version, query: normalized)
        let store = api.store
        let positions = try await api.slices.positions(for: key) {
            try await store.matchingPositions(datasetID: dataset.id, query: checked)
        }
        return Resolved(
            token: SliceToken(datasetID: dataset.id, query: normalized), dataset: dataset, positions: positions,
            query: checked)
    }
}
