import SluiceQuery

/// A query over a dataset, read like a dataset: `count`, `[i]`, `items(prefetch:)`, and
/// `slice(_:)` again (the conjunction of both queries).
///
/// Positions are 0-based within the slice, in dataset order. The server materialises the
/// slice once per dataset version; a write to the dataset makes the next call see it.
public struct Slice: Sendable {
    /// The server's id of the slice.
    public let id: String
    /// The query in its normalised form.
    public let query: String
    /// The dataset the slice selects from.
    public let datasetID: Int64
    let connection: Connection
    /// The dataset version the slice is pinned to (made from `dataset.at(_:)`); nil follows now.
    public var pinnedVersion: Int64? = nil

    var reader: PositionReader { PositionReader(connection: connection, route: "/api/v1/slices/\(id)") }

    /// The number of items now.
    public var count: Int {
        get async throws { try await reader.count }
    }

    /// The item at `position` of the slice, fetched on its own.
    public subscript(position: Int) -> Item {
        get async throws { try await reader.item(at: position) }
    }

    /// Every item of the slice (or those in `range`) in order, with a bounded window of
    /// page requests in flight, as `Dataset.items(prefetch:pageSize:range:)`.
    public func items(prefetch: Int = 4, pageSize: Int = 256, range: Range<Int>? = nil) -> ItemStream {
        ItemStream.inOrder(prefetch: prefetch, rangeSize: pageSize, range: range) { try await self.epoch() }
    }

    /// The slice's items (or those in `range`) in order as tensor records: the standard keys
    /// of `ItemTensors` (read them with `ItemTensors(record:)`) and the media bytes as `image`.
    /// For shuffling and sharding, see `epoch()`.
    public func tensors(prefetch: Int = 4, rangeSize: Int = 64, range: Range<Int>? = nil) -> TensorStream {
        TensorStream.inOrder(prefetch: prefetch, rangeSize: rangeSize, range: range) { try await self.epoch() }
    }

    /// The items of this slice that `query` also selects.
    public func slice(_ query: String) async throws -> Slice {
        try await Slice.create(
            datasetID: datasetID, query: "(\(self.query)) and (\(query))", version: pinnedVersion, connection: connection)
    }

    /// The SQL the server runs for this slice and the database's plan for it.
    public func explain() async throws -> QueryPlan {
        try await connection.get("/api/v1/slices/\(id)/explain")
    }

    struct Body: Encodable {
        var query: String
        var version: String?
    }

    static func create(datasetID: Int64, query: String, version: Int64? = nil, connection: Connection) async throws
        -> Slice
    {
        // Syntax is checked here, before any request; names are checked by the server,
        // which knows the project's labels.
        do {
            _ = try QueryParser.parse(query)
        } catch {
            throw SluiceError.badQuery(message: error.message, column: error.column, suggestions: error.suggestions)
        }
        let created: SliceInfo = try await connection.post(
            "/api/v1/datasets/\(datasetID)/slices", json: Body(query: query, version: version.map(String.init)))
        return Slice(
            id: created.id, query: created.query, datasetID: created.datasetID, connection: connection,
            pinnedVersion: version)
    }
}

extension Dataset {
    /// The items of this dataset that `query` selects, e.g. `"labels.cat > 0 and file.width >= 640"`.
    /// Throws `SluiceError.badQuery` with the column of the fault for a bad query.
    public func slice(_ query: String) async throws -> Slice {
        try await Slice.create(datasetID: id, query: query, version: pinnedVersion, connection: connection)
    }
}
