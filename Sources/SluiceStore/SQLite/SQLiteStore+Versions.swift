import GRDB
import SluiceModel

extension SQLiteStore {
    public func versionPoint(datasetID: Int64, version: Int64) async throws -> VersionPoint? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT seq, file_count, removed_count FROM dataset_versions WHERE dataset_id = ? AND version = ?",
                arguments: [datasetID, version]
            ).map { VersionPoint(datasetID: datasetID, version: version, clock: $0[0], count: $0[1], removedCount: $0[2]) }
        }
    }

    static let snapshotColumns = """
        SELECT s.id, s.dataset_id, s.name, s.version, v.file_count, s.created_at FROM snapshots s
        JOIN dataset_versions v ON v.dataset_id = s.dataset_id AND v.version = s.version
        """

    static func snapshot(_ row: Row) -> Snapshot {
        Snapshot(
            id: row[0], datasetID: row[1], name: row[2], version: row[3], count: row[4],
            createdAt: Timestamp(milliseconds: row[5]))
    }

    public func createSnapshot(datasetID: Int64, name: String) async throws -> Snapshot {
        // A number names a version: `?version=3` must never be ambiguous, so a name needs a
        // character no number has (the OpenAPI pattern `[^0-9+-]`).
        guard name.unicodeScalars.contains(where: { !("0"..."9").contains($0) && $0 != "+" && $0 != "-" }) else {
            throw StoreError.invalid("a snapshot name needs a character other than a digit, + and -, got '\(name)'")
        }
        return try await pool.write { db in
            guard let version = try Int64.fetchOne(db, sql: "SELECT version FROM datasets WHERE id = ?", arguments: [datasetID])
            else { throw StoreError.datasetNotFound(String(datasetID)) }
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM snapshots WHERE dataset_id = ? AND name = ?", arguments: [datasetID, name]) == true
            {
                throw StoreError.conflict("dataset \(datasetID) already has a snapshot named '\(name)'")
            }
            try db.execute(
                sql: "INSERT INTO snapshots (dataset_id, name, version, created_at) VALUES (?, ?, ?, ?)",
                arguments: [datasetID, name, version, Timestamp.now().milliseconds])
            return Self.snapshot(
                try Row.fetchOne(db, sql: "\(Self.snapshotColumns) WHERE s.id = ?", arguments: [db.lastInsertedRowID])!)
        }
    }

    public func snapshots(datasetID: Int64) async throws -> [Snapshot] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "\(Self.snapshotColumns) WHERE s.dataset_id = ? ORDER BY s.id", arguments: [datasetID])
                .map(Self.snapshot)
        }
    }

    public func snapshot(datasetID: Int64, name: String) async throws -> Snapshot? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "\(Self.snapshotColumns) WHERE s.dataset_id = ? AND s.name = ?", arguments: [datasetID, name]
            ).map(Self.snapshot)
        }
    }

    public func differences(from a: VersionPoint, to b: VersionPoint, positions range: Range<Int>) async throws
        -> [VersionDiffEntry]
    {
        let range = range.clamped(to: 0..<max(a.count, b.count))
        guard !range.isEmpty else { return [] }
        @Sendable func alive(_ clock: Int64) -> String {
            "(i.valid_from <= \(clock) AND (i.valid_to IS NULL OR i.valid_to > \(clock)))"
        }
        @Sendable func revision(_ clock: Int64) -> String {
            """
            coalesce((SELECT r.revision FROM file_revisions r WHERE r.file_id = f.id AND r.valid_to > \(clock)
            ORDER BY r.valid_to LIMIT 1), f.revision)
            """
        }
        // Whether the position reads as a file at the version: below its count, and not removed then.
        @Sendable func placed(_ version: VersionPoint) -> String {
            "(df.position < \(version.count) AND (df.removed_at IS NULL OR df.removed_at > \(version.clock)))"
        }
        return try await pool.read { db in
            var entries: [VersionDiffEntry] = []
            let files = try Row.fetchCursor(
                db,
                sql: """
                    SELECT df.position, df.file_id, \(revision(a.clock)), \(revision(b.clock)), \(placed(a)), \(placed(b))
                    FROM dataset_files df JOIN files f ON f.id = df.file_id
                    WHERE df.dataset_id = ? AND df.position >= ? AND df.position < ? ORDER BY df.position
                    """,
                arguments: [a.datasetID, range.lowerBound, range.upperBound])
            while let row = try files.next() {
                let position: Int = row[0]
                let inA: Bool = row[4], inB: Bool = row[5]
                guard inA || inB else { continue }
                let kind: VersionDiffEntry.Kind? =
                    inA && inB ? ((row[2] as Int64) != (row[3] as Int64) ? .fileChanged : nil)
                    : inB ? .fileAdded : .fileRemoved
                if let kind { entries.append(VersionDiffEntry(kind: kind, position: position, fileID: row[1])) }
            }
            // Instances alive at one version and not at the other. A file added or removed
            // lists its instances too: a diff says what to add or drop, file by file.
            let instances = try Row.fetchCursor(
                db,
                sql: """
                    SELECT df.position, i.file_id, i.id, \(alive(b.clock)) FROM dataset_files df
                    JOIN instances i ON i.file_id = df.file_id
                    WHERE df.dataset_id = ? AND df.position >= ? AND df.position < ?
                    AND (CASE WHEN \(placed(a)) THEN \(alive(a.clock)) ELSE 0 END)
                        != (CASE WHEN \(placed(b)) THEN \(alive(b.clock)) ELSE 0 END)
                    ORDER BY df.position, i.id
                    """,
                arguments: [a.datasetID, range.lowerBound, range.upperBound])
            while let row = try instances.next() {
                entries.append(
                    VersionDiffEntry(
                        kind: (row[3] as Bool) ? .instanceAdded : .instanceRemoved, position: row[0], fileID: row[1],
                        instanceID: row[2]))
            }
            // Position order; at one position the file's entry first, then its instances by id.
            return entries.enumerated().sorted { x, y in
                (x.element.position, x.element.instanceID == nil ? 0 : 1, x.offset)
                    < (y.element.position, y.element.instanceID == nil ? 0 : 1, y.offset)
            }.map(\.element)
        }
    }

    public func renameLabel(id: Int64, to name: String) async throws {
        try Self.checkLabelName(name, field: "name")
        let changedDatasets = try await pool.write { db in
            guard let projectID = try String.fetchOne(db, sql: "SELECT project_id FROM labels WHERE id = ? AND valid_to IS NULL", arguments: [id])
            else { throw StoreError.invalid("no label with id \(id)") }
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM labels WHERE project_id = ? AND name = ? AND id != ?", arguments: [projectID, name, id]
            ) == true {
                throw StoreError.conflict("project \(projectID) already has a label named '\(name)'")
            }
            // Before the update: the trigger keeps the old name until this clock value.
            _ = try Self.advanceClock(db)
            try db.execute(sql: "UPDATE labels SET name = ? WHERE id = ?", arguments: [name, id])
            // Instances show their label's name: the items of files with live ones changed.
            let files = try Int64.fetchAll(db, sql: "SELECT file_id FROM label_counts WHERE label_id = ?", arguments: [id])
            try db.execute(
                sql: """
                    UPDATE datasets SET version = version + 1 WHERE id IN (
                        SELECT DISTINCT df.dataset_id FROM label_counts c JOIN dataset_files df ON df.file_id = c.file_id
                        WHERE c.label_id = ? AND df.removed_at IS NULL)
                    """,
                arguments: [id])
            return try Self.recordChanges(db, ofFiles: files, at: Timestamp.now())
        }
        changeNotifier.notify(datasetIDs: changedDatasets)
    }
}
