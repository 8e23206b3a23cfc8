import GRDB
import SluiceModel

/// Look-ups by file id: where files sit, which belong to a project, the ids at positions
/// (the Diffgram routes list files by id; authorization needs a file's project).
extension SQLiteStore {
    public func countFiles(projectID: String, ids fileIDs: [Int64]) async throws -> Int {
        guard !fileIDs.isEmpty else { return 0 }
        // One JSON array parameter: any number of ids, one cached statement.
        let list = "[" + fileIDs.map(String.init).joined(separator: ",") + "]"
        return try await pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM files
                    WHERE project_id = ? AND id IN (SELECT DISTINCT value FROM json_each(?))
                    """,
                arguments: [projectID, list]) ?? 0
        }
    }

    public func placements(fileID: Int64) async throws -> [FilePlacement] {
        try await pool.read { db in
            // A file is at most once among a dataset's live positions (index dataset_files_live).
            try Row.fetchAll(
                db,
                sql: "SELECT dataset_id, position FROM dataset_files WHERE file_id = ? AND removed_at IS NULL ORDER BY dataset_id",
                arguments: [fileID]
            ).map { FilePlacement(datasetID: $0[0], position: $0[1]) }
        }
    }

    public func fileIDs(datasetID: Int64, positions: [Int]) async throws -> [Int64] {
        guard !positions.isEmpty else { return [] }
        let list = "[" + positions.map(String.init).joined(separator: ",") + "]"
        return try await pool.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT file_id FROM dataset_files
                    WHERE dataset_id = ? AND position IN (SELECT value FROM json_each(?)) ORDER BY position
                    """,
                arguments: [datasetID, list])
        }
    }

    public func fileIDs(datasetID: Int64, range: Range<Int>) async throws -> [Int64] {
        guard !range.isEmpty else { return [] }
        return try await pool.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT file_id FROM dataset_files
                    WHERE dataset_id = ? AND position >= ? AND position < ? ORDER BY position
                    """,
                arguments: [datasetID, range.lowerBound, range.upperBound])
        }
    }
}
