import GRDB

extension SQLiteStore {
    public func labelSourceIDs(projectID: String) async throws -> [Int64: Int64] {
        try await pool.read { db in
            var ids: [Int64: Int64] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, source_id FROM labels WHERE project_id = ? AND source_id IS NOT NULL",
                arguments: [projectID])
            while let row = try rows.next() { ids[row[0]] = row[1] }
            return ids
        }
    }

    public func checkSourceIDs(datasetID: Int64, at version: VersionPoint?) async throws -> SourceIDCheck {
        // The positions that read as files (not removed) now, or at the version.
        let placed = version.map { "df.position < \($0.count) AND (df.removed_at IS NULL OR df.removed_at > \($0.clock))" }
            ?? "df.removed_at IS NULL"
        let files = "AND \(placed)"
        let alive = version.map { "\(placed) AND i.valid_from <= \($0.clock) AND (i.valid_to IS NULL OR i.valid_to > \($0.clock))" }
            ?? "\(placed) AND i.deleted = 0"
        return try await pool.read { db in
            // count(DISTINCT x) skips NULLs, so equality with count(*) also means none is missing.
            // The distinct values go to a temporary b-tree; on disk for this read, since 7M ids
            // in memory would cost an export ~150 MB.
            try db.execute(sql: "PRAGMA temp_store = FILE")
            defer { try? db.execute(sql: "PRAGMA temp_store = MEMORY") }
            let filesUnique = try Bool.fetchOne(
                db,
                sql: """
                    SELECT count(*) = count(DISTINCT json_extract(f.metadata, '$.coco_id'))
                    FROM dataset_files df JOIN files f ON f.id = df.file_id WHERE df.dataset_id = ? \(files)
                    """,
                arguments: [datasetID]) ?? false
            let instancesUnique = try Bool.fetchOne(
                db,
                sql: """
                    SELECT count(*) = count(DISTINCT json_extract(i.metadata, '$.coco_id'))
                    FROM dataset_files df JOIN instances i ON i.file_id = df.file_id
                    WHERE df.dataset_id = ? AND \(alive)
                    """,
                arguments: [datasetID]) ?? false
            return SourceIDCheck(filesUnique: filesUnique, instancesUnique: instancesUnique)
        }
    }
}
