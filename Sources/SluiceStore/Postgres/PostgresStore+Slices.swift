import PostgresNIO
import SluiceModel
import SluiceQuery

extension PostgresStore {
    /// A slice's statement: the query compiled in PostgreSQL's dialect, the dataset id bound
    /// after its parameters. PostgreSQL's planner has statistics of its own (label_counts by
    /// label), so the store does not choose the driving table as it does on SQLite.
    static func slicePlan(datasetID: Int64, query: CheckedQuery) throws -> PostgresQuery {
        // Label terms need only the file's id, which dataset_files holds: without file terms,
        // `files` stays out (a rare label's 13,237 files of a million were as many probes of
        // its primary key).
        let filter = query.sql(dialect: PostgresDialect(), parameterOffset: 1, fileID: "df.file_id")
        var binds = PostgresBindings()
        for value in filter.parameters {
            switch value {
            case .integer(let v): binds.append(v)
            case .real(let v): binds.append(v)
            case .text(let v): binds.append(v)
            case .null: binds.appendNull()
            }
        }
        binds.append(datasetID)
        return PostgresQuery(
            unsafeSQL: """
                SELECT df.position FROM dataset_files df\(filter.readsFileRow ? " JOIN files f ON f.id = df.file_id" : "")
                WHERE df.dataset_id = $\(filter.parameters.count + 1) AND df.removed_at IS NULL AND (\(filter.whereClause))
                ORDER BY df.position
                """,
            binds: binds)
    }

    /// Memory a slice's statement may use for hashing: a test that a label is absent (`NOT IN`
    /// over the files that have it) is a hashed lookup only when those files fit, and at a
    /// million files they need some 30 MB; past the default 4 MB, PostgreSQL scans the list
    /// once per file instead.
    static let sliceWorkMemory = "256MB"

    /// The planner's price of a random page for a slice's statement: the slice indexes are
    /// read far more often than written, and cached. At the default 4 (a spinning disk's
    /// seek), a rare label's 13,237 files at a million were joined by a parallel scan of all
    /// of dataset_files (88–114 ms) instead of as many index-only probes (44–65 ms).
    static let sliceRandomPageCost = "1.1"

    /// The settings of a slice's statement, for its transaction only.
    static func setUpSlice(_ db: PostgresSession) async throws {
        try await db.execute(
            """
            SELECT set_config('work_mem', \(sliceWorkMemory), true), \
            set_config('random_page_cost', \(sliceRandomPageCost), true)
            """)
    }

    public func matchingPositions(datasetID: Int64, query: CheckedQuery) async throws -> [Int] {
        let plan = try Self.slicePlan(datasetID: datasetID, query: query)
        return try await read { db in
            try await Self.setUpSlice(db)
            return try await db.values(plan, as: Int.self)
        }
    }

    public func explainMatching(datasetID: Int64, query: CheckedQuery) async throws -> QueryPlan {
        let plan = try Self.slicePlan(datasetID: datasetID, query: query)
        let lines = try await read { db in
            try await Self.setUpSlice(db)
            return try await db.values(PostgresQuery(unsafeSQL: "EXPLAIN " + plan.sql, binds: plan.binds), as: String.self)
        }
        return QueryPlan(sql: plan.sql, plan: lines)
    }

    public func labelTallies(datasetID: Int64, positions: [Int]?) async throws -> [Int64: LabelTally] {
        try await read { db in
            let select = """
                SELECT c.label_id, sum(c.count)::bigint, count(*) FROM dataset_files df
                JOIN label_counts c ON c.file_id = df.file_id
                WHERE df.dataset_id = $1 AND df.removed_at IS NULL
                """
            var binds = PostgresBindings()
            binds.append(datasetID)
            let sql: String
            if let positions {
                binds.append(positions.map { Int64($0) })
                sql = select + " AND df.position = ANY($2) GROUP BY c.label_id"
            } else {
                sql = select + " GROUP BY c.label_id"
            }
            var tallies: [Int64: LabelTally] = [:]
            for row in try await db.rows(PostgresQuery(unsafeSQL: sql, binds: binds)) {
                tallies[try row.at(0)] = LabelTally(instances: try row.at(1), files: try row.at(2))
            }
            return tallies
        }
    }

    public func labelSourceIDs(projectID: String) async throws -> [Int64: Int64] {
        try await read { db in
            var ids: [Int64: Int64] = [:]
            for row in try await db.rows(
                "SELECT id, source_id FROM labels WHERE project_id = \(projectID) AND source_id IS NOT NULL")
            {
                ids[try row.at(0)] = try row.at(1)
            }
            return ids
        }
    }

    public func checkSourceIDs(datasetID: Int64, at version: VersionPoint?) async throws -> SourceIDCheck {
        let placed = version.map { "df.position < \($0.count) AND (df.removed_at IS NULL OR df.removed_at > \($0.clock))" }
            ?? "df.removed_at IS NULL"
        let alive = version.map { "i.valid_from <= \($0.clock) AND (i.valid_to IS NULL OR i.valid_to > \($0.clock))" }
            ?? "i.deleted = 0"
        // count(DISTINCT x) skips NULLs, so equality with count(*) also means none is missing.
        // The id is compared as JSON text: 1 and 1.0 are one id to SQLite's json_extract too.
        return try await read { db in
            let filesUnique = try await db.value(
                """
                SELECT count(*) = count(DISTINCT (f.metadata::jsonb -> 'coco_id'))
                FROM dataset_files df JOIN files f ON f.id = df.file_id WHERE df.dataset_id = \(datasetID)
                AND \(unescaped: placed)
                """, as: Bool.self) ?? false
            let instancesUnique = try await db.value(
                """
                SELECT count(*) = count(DISTINCT (i.metadata::jsonb -> 'coco_id'))
                FROM dataset_files df JOIN instances i ON i.file_id = df.file_id
                WHERE df.dataset_id = \(datasetID) AND \(unescaped: placed) AND \(unescaped: alive)
                """, as: Bool.self) ?? false
            return SourceIDCheck(filesUnique: filesUnique, instancesUnique: instancesUnique)
        }
    }

    // MARK: Look-ups by file id

    public func countFiles(projectID: String, ids fileIDs: [Int64]) async throws -> Int {
        guard !fileIDs.isEmpty else { return 0 }
        return try await read { db in
            try await db.value("SELECT count(*) FROM files WHERE project_id = \(projectID) AND id = ANY(\(fileIDs))", as: Int.self)
                ?? 0
        }
    }

    public func placements(fileID: Int64) async throws -> [FilePlacement] {
        try await read { db in
            try await db.rows(
                """
                SELECT dataset_id, position FROM dataset_files WHERE file_id = \(fileID) AND removed_at IS NULL
                ORDER BY dataset_id
                """
            ).map { FilePlacement(datasetID: try $0.at(0), position: try $0.at(1)) }
        }
    }

    public func fileIDs(datasetID: Int64, positions: [Int]) async throws -> [Int64] {
        guard !positions.isEmpty else { return [] }
        let list = positions.map { Int64($0) }
        return try await read { db in
            try await db.values(
                "SELECT file_id FROM dataset_files WHERE dataset_id = \(datasetID) AND position = ANY(\(list)) ORDER BY position",
                as: Int64.self)
        }
    }

    public func fileIDs(datasetID: Int64, range: Range<Int>) async throws -> [Int64] {
        guard !range.isEmpty else { return [] }
        return try await read { db in
            try await db.values(
                """
                SELECT file_id FROM dataset_files WHERE dataset_id = \(datasetID)
                AND position >= \(Int64(range.lowerBound)) AND position < \(Int64(range.upperBound)) ORDER BY position
                """, as: Int64.self)
        }
    }
}
