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
        /// A version number or snapshot name to pin the slice to.
        var version: String?
    }

    /// A slice resolved to its materialisation, at the current version or its pinned one.
    struct Resolved {
        var token: SliceToken
        var dataset: Dataset
        var positions: [Int]
        var pinned: VersionPoint? = nil
        /// Where the positions are cached: what else is cached per slice is keyed by it too.
        var key: SliceCache.Key

        var version: Int64 { pinned?.version ?? dataset.version }

        /// The items at these dataset positions, read at the slice's version.
        func items(_ store: any Store, positions: [Int]) async throws -> [StoredItem] {
            if let pinned { return try await store.storedItems(datasetID: dataset.id, positions: positions, at: pinned) }
            return try await store.storedItems(datasetID: dataset.id, positions: positions)
        }
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        // Creating a slice reads: it stores nothing (the id is the query), so viewers may.
        registry.post("/datasets/{id}/slices", access: .read) { request, context in
            let dataset = try await DatasetRoutes.dataset(api.store, context)
            let body = try await request.decodeBody(as: CreateSlice.self, context: context, limits: api.configuration)
            let pinned = try await body.version.asyncMap { try await api.store.versionPoint(of: dataset, named: $0) }
            let resolved = try await Self.resolve(api, dataset: dataset, query: body.query, at: pinned)
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
            let checked = try await Self.check(api, dataset: resolved.dataset, try Self.parse(resolved.token.query))
            return try .json(try await api.store.explainMatching(datasetID: resolved.dataset.id, query: checked))
        }
        registry.get("/slices/{token}/items/{position}") { _, context in
            let resolved = try await Self.resolve(api, context)
            let position = try context.position(count: resolved.positions.count, of: "the slice")
            guard var item = try await resolved.items(api.store, positions: [resolved.positions[position]]).first else {
                throw APIError.notFound("position \(position) of the slice is gone")
            }
            item.position = position
            var out = JSONOutput(capacity: 4096)
            out.item(item)
            return .json(bytes: out.bytes)
        }
        registry.get("/slices/{token}/items") { request, context in
            let resolved = try await Self.resolve(api, context)
            let count = resolved.positions.count
            let range = try request.pageRange(count: count, api.configuration)
            var items = try await resolved.items(api.store, positions: range.isEmpty ? [] : Array(resolved.positions[range]))
            // Items come back in dataset order, which is slice order; renumber to slice positions.
            for index in items.indices { items[index].position = range.lowerBound + index }
            return .json(bytes: DatasetRoutes.pageJSON(datasetID: resolved.dataset.id, start: range.lowerBound, count: count, items: items))
        }
    }

    static func info(_ resolved: Resolved) -> SliceInfo {
        SliceInfo(
            id: resolved.token.encoded, datasetID: resolved.dataset.id, query: resolved.token.query,
            version: resolved.version, count: resolved.positions.count)
    }

    static func resolve(_ api: APIContext, _ context: SluiceRequestContext) async throws -> Resolved {
        let (token, dataset) = try await tokenAndDataset(api, context)
        let pinned = try await token.version.asyncMap { try await api.store.versionPoint(of: dataset, named: String($0)) }
        return try await resolve(api, dataset: dataset, query: token.query, at: pinned)
    }

    /// The slice of `text` at `version` (nil: the dataset's current one): from the cache, or
    /// checked against the project's names and materialised (`Store.matchingPositions(in:…)`:
    /// indexed SQL for the current version, a scan of an older one's items).
    ///
    /// The cache key is the query's canonical text, so Diffgram's spelling and Sluice's share
    /// one entry and one slice id. Parsing alone gives it (no database) unless a label or
    /// attribute name has an underscore, which may stand for a space: only then are the
    /// project's names read first (`Query.normalized(against:)`). A query that tests
    /// `dataset.tag` adds the project's tag revision to the key.
    static func resolve(_ api: APIContext, dataset: Dataset, query text: String, at version: VersionPoint? = nil)
        async throws -> Resolved
    {
        guard text.utf8.count <= api.configuration.maxQueryBytes else {
            throw APIError.badParameter(
                "query", "a query has at most \(api.configuration.maxQueryBytes) bytes, this one \(text.utf8.count)")
        }
        var query = try parse(text)
        var schema: QuerySchema? = nil
        if query.namesMayNeedResolving {
            let names = try await Self.schema(api, dataset: dataset)
            query = query.resolvingNames(in: names)
            schema = names
        }
        let normalized = query.normalized
        let tagsRevision = query.testsDatasetTags ? try await api.store.datasetTagsRevision(projectID: dataset.projectID) : 0
        let key = SliceCache.Key(
            datasetID: dataset.id, version: version?.version ?? dataset.version, query: normalized, tagsRevision: tagsRevision)
        let positions = try await api.slices.positions(for: key) { [schema, query] in
            // Names are checked against the project's labels now: a label renamed since is
            // found by its new name (ids do not change).
            let checked = try await check(api, dataset: dataset, query, schema: schema)
            return try await api.store.matchingPositions(in: dataset, query: checked, at: version)
        }
        return Resolved(
            token: SliceToken(datasetID: dataset.id, query: normalized, version: version?.version), dataset: dataset,
            positions: positions, pinned: version, key: key)
    }

    /// The `{token}` path parameter and the dataset it names, with nothing materialised.
    static func tokenAndDataset(_ api: APIContext, _ context: SluiceRequestContext) async throws
        -> (SliceToken, Dataset)
    {
        let text = try context.parameters.require("token")
        // An id that does not decode names no slice, the same as one whose dataset is gone.
        guard let token = SliceToken(encoded: text) else { throw APIError.notFound("no slice with id \(text)") }
        guard let dataset = try await api.store.dataset(id: token.datasetID) else {
            throw APIError.notFound("no dataset with id \(token.datasetID)")
        }
        return (token, dataset)
    }

    static func parse(_ text: String) throws -> Query {
        do {
            return try QueryParser.parse(text)
        } catch {
            throw badQuery(error)
        }
    }

    /// The project's labels and attribute groups: the names a query may use.
    static func schema(_ api: APIContext, dataset: Dataset) async throws -> QuerySchema {
        QuerySchema(
            labels: try await api.store.labels(projectID: dataset.projectID),
            attributeGroups: try await api.store.attributeGroups(projectID: dataset.projectID))
    }

    /// The query checked against the project's labels and attribute groups (`schema`, when
    /// the caller has read them already).
    static func check(_ api: APIContext, dataset: Dataset, _ query: Query, schema: QuerySchema? = nil) async throws
        -> CheckedQuery
    {
        let names: QuerySchema
        if let schema { names = schema } else { names = try await Self.schema(api, dataset: dataset) }
        do {
            return try query.checked(against: names)
        } catch {
            // Written right, but naming a label, field or attribute the project lacks: 422.
            throw badQuery(error, status: .unprocessableContent)
        }
    }

    static func badQuery(_ error: QueryError, status: HTTPResponse.Status = .badRequest) -> APIError {
        APIError(
            status, code: "bad_query", message: error.message,
            detail: .object([
                "column": .number(Double(error.column)),
                "suggestions": .array(error.suggestions.map { .string($0) }),
                "excerpt": .string(error.description),
            ]))
    }
}
