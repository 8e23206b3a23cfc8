import GRDB
import SluiceModel
import SluiceQuery

extension SQLiteStore {
    static func matchingSQL(_ filter: CompiledQuery) -> String {
        """
        SELECT df.position FROM dataset_files df JOIN files f ON f.id = df.file_id
        WHERE df.dataset_id = ? AND (\(filter.whereClause)) ORDER BY df.position
        """
    }

    static func arguments(datasetID: Int64, _ filter: CompiledQuery) -> StatementArguments {
        var values: [(any DatabaseValueConvertible)?] = [datasetID]
        for value in filter.parameters {
            switch value {
            case .integer(let v): values.append(v)
            case .real(let v): values.append(v)
            case .text(let v): values.append(v)
            case .null: values.append(nil)
            }
        }
        return StatementArguments(values)
    }

    public func matchingPositions(datasetID: Int64, filter: CompiledQuery) async throws -> [Int] {
        try await pool.read { db in
            var positions: [Int] = []
            let cursor = try Int.fetchCursor(
                db, sql: Self.matchingSQL(filter), arguments: Self.arguments(datasetID: datasetID, filter))
            while let position = try cursor.next() {
                try Task.checkCancellation()
                positions.append(position)
            }
            return positions
        }
    }

    public func explainMatching(datasetID: Int64, filter: CompiledQuery) async throws -> QueryPlan {
        let sql = Self.matchingSQL(filter)
        return try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: Self.arguments(datasetID: datasetID, filter))
            return QueryPlan(sql: sql, plan: rows.map { $0["detail"] as String? ?? "" })
        }
    }
}
