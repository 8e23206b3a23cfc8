import NIOCore
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

    /// The number of items now.
    public var count: Int {
        get async throws {
            let reply: CountResponse = try await connection.get("/api/v1/slices/\(id)/count")
            return reply.count
        }
    }

    /// The item at `position` of the slice, fetched on its own.
    public subscript(position: Int) -> Item {
        get async throws {
            guard position >= 0 else { throw SluiceError.positionOutOfRange(position: position, count: nil) }
            do {
                let body = try await connection.getBytes("/api/v1/slices/\(id)/items/\(position)")
                return try Dataset.decode(body) { try WireDecoder.item(from: $0) }
            } catch SluiceError.server(404, "position_out_of_range", _) {
                throw SluiceError.positionOutOfRange(position: position, count: try? await count)
            }
        }
    }

    /// Every item of the slice (or those in `range`) in order, with a bounded window of
    /// page requests in flight, as `Dataset.items(prefetch:pageSize:range:)`.
    public func items(prefetch: Int = 4, pageSize: Int = 256, range: Range<Int>? = nil) -> ItemStream {
        let connection = self.connection
        let id = self.id
        return ItemStream(
            fetch: { range in
                let body = try await connection.getBytes(
                    "/api/v1/slices/\(id)/items?start=\(range.lowerBound)&end=\(range.upperBound)")
                return try Dataset.decode(body) { try WireDecoder.itemPage(from: $0) }
            },
            start: range?.lowerBound ?? 0, end: range?.upperBound, prefetch: max(1, prefetch),
            pageSize: max(1, pageSize))
    }

    /// The items of this slice that `query` also selects.
    public func slice(_ query: String) async throws -> Slice {
        try await Slice.create(datasetID: datasetID, query: "(\(self.query)) and (\(query))", connection: connection)
    }

    /// The SQL the server runs for this slice and the database's plan for it.
    public func explain() async throws -> SlicePlan {
        try await connection.get("/api/v1/slices/\(id)/explain")
    }

    struct Created: Decodable, Sendable {
        var id: String
        var query: String
        var datasetID: Int64
        var count: Int

        enum CodingKeys: String, CodingKey {
            case id, query, count
            case datasetID = "dataset_id"
        }
    }

    struct Body: Encodable {
        var query: String
    }

    static func create(datasetID: Int64, query: String, connection: Connection) async throws -> Slice {
        // Syntax is checked here, before any request; names are checked by the server,
        // which knows the project's labels.
        do {
            _ = try QueryParser.parse(query)
        } catch let error as QueryError {
            throw SluiceError.badQuery(message: error.message, column: error.column, suggestions: error.suggestions)
        }
        let created: Created = try await connection.post(
            "/api/v1/datasets/\(datasetID)/slices", json: Body(query: query))
        return Slice(id: created.id, query: created.query, datasetID: created.datasetID, connection: connection)
    }
}

/// The SQL behind a slice and the database's plan for it.
public struct SlicePlan: Sendable, Hashable, Decodable {
    public var sql: String
    public var plan: [String]
}

extension Dataset {
    /// The items of this dataset that `query` selects, e.g. `"labels.cat > 0 and file.width >= 640"`.
    /// Throws `SluiceError.badQuery` with the column of the fault for a bad query.
    public func slice(_ query: String) async throws -> Slice {
        try await Slice.create(datasetID: id, query: query, connection: connection)
    }
}
