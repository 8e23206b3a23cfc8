import Logging
import PostgresNIO

/// One connection of the pool, lent for a read or a write transaction: where the statements
/// of one store operation run.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Every row of the statement, read to the end.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(query, logger: logger) { rows.append(row.makeRandomAccess()) }
        return rows
    }

    /// Every row of the statement, each decoded as it arrives: no random-access row is made.
    func decodedRows<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        var values: [T] = []
        for try await row in try await connection.query(query, logger: logger) { values.append(try decode(row)) }
        return values
    }

    /// The first row, decoded, if any.
    func decodedRow<T>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> T) async throws -> T? {
        try await decodedRows(query, decode).first
    }

    /// The first row, if any.
    func row(_ query: PostgresQuery) async throws -> PostgresRandomAccessRow? {
        try await rows(query).first
    }

    /// The first column of the first row, nil when there is no row or the value is NULL.
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        guard let row = try await row(query), row[0].bytes != nil else { return nil }
        return try row.at(0, as: T.self)
    }

    /// The first column of every row.
    func values<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> [T] {
        try await rows(query).map { try $0.at(0, as: T.self) }
    }

    /// Runs a statement. PostgresNIO's async API does not give the command tag: a statement
    /// whose row count matters says `RETURNING 1` and counts `rows`.
    func execute(_ query: PostgresQuery) async throws {
        for try await _ in try await connection.query(query, logger: logger) {}
    }
}

extension PostgresRandomAccessRow {
    /// The column at `index`, decoded.
    func at<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws -> T {
        try self[index].decode(T.self)
    }
}
