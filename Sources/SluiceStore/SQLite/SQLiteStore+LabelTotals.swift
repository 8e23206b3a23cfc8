import GRDB
import SluiceModel

/// The label histogram of a dataset now, from `label_counts` (kept by triggers on every write),
/// never from the instances themselves.
extension SQLiteStore {
    /// Positions are looked up this many at a time: under SQLite's bound-parameter limit.
    private static let positionsPerStatement = 500

    public func labelTallies(datasetID: Int64, positions: [Int]?) async throws -> [Int64: LabelTally] {
        try await pool.read { db in
            var tallies: [Int64: LabelTally] = [:]
            func add(_ sql: String, _ arguments: StatementArguments) throws {
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try rows.next() {
                    let label: Int64 = row[0]
                    tallies[label, default: LabelTally()] = tallies[label, default: LabelTally()]
                        + LabelTally(instances: row[1], files: row[2])
                }
            }
            let select = """
                SELECT c.label_id, sum(c.count), count(*) FROM dataset_files df JOIN label_counts c ON c.file_id = df.file_id
                WHERE df.dataset_id = ? AND df.removed_at IS NULL
                """
            guard let positions else {
                try add(select + " GROUP BY c.label_id", [datasetID])
                return tallies
            }
            var start = 0
            while start < positions.count {
                try Task.checkCancellation()
                let chunk = positions[start..<min(positions.count, start + Self.positionsPerStatement)]
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                try add(
                    select + " AND df.position IN (\(marks)) GROUP BY c.label_id",
                    StatementArguments([datasetID] + chunk.map { Int64($0) }))
                start += Self.positionsPerStatement
            }
            return tallies
        }
    }
}
