import GRDB
import SluiceModel
import SluiceQuery

extension SQLiteStore {
    /// A slice's statement: the compiled condition, and where the scan starts.
    struct SlicePlan {
        var sql: String
        var arguments: StatementArguments
    }

    /// Chooses how to run a slice. By default SQLite walks the dataset in position order and
    /// tests each file. When the query requires a label that few files have, it starts from
    /// that label's files instead (an index range of label_counts), then sorts the few
    /// positions: a rare label among a million files is milliseconds instead of a full walk.
    /// SQLite cannot tell the two cases apart without statistics, so the store looks: a
    /// bounded count per required label.
    static func plan(_ db: Database, datasetID: Int64, query: CheckedQuery) throws -> SlicePlan {
        let filter = query.sql(dialect: SQLiteDialect(), parameterOffset: 1)
        var values: [(any DatabaseValueConvertible)?] = []
        for value in filter.parameters {
            switch value {
            case .integer(let v): values.append(v)
            case .real(let v): values.append(v)
            case .text(let v): values.append(v)
            case .null: values.append(nil)
            }
        }
        let fileCount = try Int.fetchOne(db, sql: "SELECT file_count FROM datasets WHERE id = ?", arguments: [datasetID]) ?? 0
        let limit = max(1000, fileCount / 10)
        var driver: (label: Int64, files: Int)?
        for label in Set(query.requiredLabels) {
            let files = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM (SELECT 1 FROM label_counts WHERE label_id = ? LIMIT ?)",
                arguments: [label, limit]) ?? 0
            if files < limit, files < driver?.files ?? .max { driver = (label, files) }
        }
        guard let driver else {
            return SlicePlan(
                sql: """
                    SELECT df.position FROM dataset_files df JOIN files f ON f.id = df.file_id
                    WHERE df.dataset_id = ? AND df.removed_at IS NULL AND (\(filter.whereClause)) ORDER BY df.position
                    """,
                arguments: StatementArguments([datasetID] + values))
        }
        // The label's files (an index range of label_counts, read once into a list) drive the
        // membership look-ups; CROSS JOIN and INDEXED BY fix that order, then the file row.
        // Two look-ups per candidate: its membership and its file.
        return SlicePlan(
            sql: """
                SELECT df.position FROM dataset_files df INDEXED BY dataset_files_by_file CROSS JOIN files f
                WHERE df.file_id IN (SELECT file_id FROM label_counts WHERE label_id = ?) AND df.dataset_id = ?
                AND df.removed_at IS NULL AND f.id = df.file_id AND (\(filter.whereClause)) ORDER BY df.position
                """,
            arguments: StatementArguments([driver.label, datasetID] + values))
    }

    public func matchingPositions(datasetID: Int64, query: CheckedQuery) async throws -> [Int] {
        try await pool.read { db in
            let plan = try Self.plan(db, datasetID: datasetID, query: query)
            var positions: [Int] = []
            let cursor = try Int.fetchCursor(db, sql: plan.sql, arguments: plan.arguments)
            while let position = try cursor.next() {
                try Task.checkCancellation()
                positions.append(position)
            }
            return positions
        }
    }

    public func explainMatching(datasetID: Int64, query: CheckedQuery) async throws -> QueryPlan {
        try await pool.read { db in
            let plan = try Self.plan(db, datasetID: datasetID, query: query)
            let rows = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + plan.sql, arguments: plan.arguments)
            return QueryPlan(sql: plan.sql, plan: rows.map { $0["detail"] as String? ?? "" })
        }
    }
}
