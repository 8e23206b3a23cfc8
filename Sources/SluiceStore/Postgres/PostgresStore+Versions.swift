import PostgresNIO
import SluiceModel

/// Versions, snapshots, diffs and the change feed (docs/versions.md): the SQLite engine's
/// SQL, in PostgreSQL's spelling.
extension PostgresStore {
    public func versionPoint(datasetID: Int64, version: Int64) async throws -> VersionPoint? {
        try await read { db in
            try await db.row(
                """
                SELECT seq, file_count, removed_count FROM dataset_versions
                WHERE dataset_id = \(datasetID) AND version = \(version)
                """
            ).map {
                VersionPoint(
                    datasetID: datasetID, version: version, clock: try $0.at(0), count: try $0.at(1),
                    removedCount: try $0.at(2))
            }
        }
    }

    static let snapshotColumns = """
        SELECT s.id, s.dataset_id, s.name, s.version, v.file_count, s.created_at FROM snapshots s
        JOIN dataset_versions v ON v.dataset_id = s.dataset_id AND v.version = s.version
        """

    static func snapshot(_ row: PostgresRandomAccessRow) throws -> Snapshot {
        Snapshot(
            id: try row.at(0), datasetID: try row.at(1), name: try row.at(2), version: try row.at(3),
            count: try row.at(4), createdAt: Timestamp(milliseconds: try row.at(5)))
    }

    public func createSnapshot(datasetID: Int64, name: String) async throws -> Snapshot {
        guard name.unicodeScalars.contains(where: { !("0"..."9").contains($0) && $0 != "+" && $0 != "-" }) else {
            throw StoreError.invalid("a snapshot name needs a character other than a digit, + and -, got '\(name)'")
        }
        return try await write { db in
            guard let version = try await db.value("SELECT version FROM datasets WHERE id = \(datasetID)", as: Int64.self)
            else { throw StoreError.datasetNotFound(String(datasetID)) }
            if try await db.row("SELECT 1 FROM snapshots WHERE dataset_id = \(datasetID) AND name = \(name)") != nil {
                throw StoreError.conflict("dataset \(datasetID) already has a snapshot named '\(name)'")
            }
            let id = try await db.value(
                """
                INSERT INTO snapshots (dataset_id, name, version, created_at)
                VALUES (\(datasetID), \(name), \(version), \(Timestamp.now().milliseconds)) RETURNING id
                """, as: Int64.self)!
            return try Self.snapshot(try await db.row("\(unescaped: Self.snapshotColumns) WHERE s.id = \(id)")!)
        }
    }

    public func snapshots(datasetID: Int64) async throws -> [Snapshot] {
        try await read { db in
            try await db.rows("\(unescaped: Self.snapshotColumns) WHERE s.dataset_id = \(datasetID) ORDER BY s.id")
                .map(Self.snapshot)
        }
    }

    public func snapshot(datasetID: Int64, name: String) async throws -> Snapshot? {
        try await read { db in
            try await db.row("\(unescaped: Self.snapshotColumns) WHERE s.dataset_id = \(datasetID) AND s.name = \(name)")
                .map(Self.snapshot)
        }
    }

    public func differences(from a: VersionPoint, to b: VersionPoint, positions range: Range<Int>) async throws
        -> [VersionDiffEntry]
    {
        let range = range.clamped(to: 0..<max(a.count, b.count))
        guard !range.isEmpty else { return [] }
        func alive(_ clock: Int64) -> String {
            "(i.valid_from <= \(clock) AND (i.valid_to IS NULL OR i.valid_to > \(clock)))"
        }
        func revision(_ clock: Int64) -> String {
            """
            coalesce((SELECT r.revision FROM file_revisions r WHERE r.file_id = f.id AND r.valid_to > \(clock)
            ORDER BY r.valid_to LIMIT 1), f.revision)
            """
        }
        func placed(_ version: VersionPoint) -> String {
            "(df.position < \(version.count) AND (df.removed_at IS NULL OR df.removed_at > \(version.clock)))"
        }
        let lower = Int64(range.lowerBound), upper = Int64(range.upperBound)
        let fileSQL = """
            SELECT df.position, df.file_id, \(revision(a.clock)), \(revision(b.clock)), \(placed(a)), \(placed(b))
            FROM dataset_files df JOIN files f ON f.id = df.file_id
            WHERE df.dataset_id = \(a.datasetID) AND df.position >= \(lower) AND df.position < \(upper) ORDER BY df.position
            """
        let instanceSQL = """
            SELECT df.position, i.file_id, i.id, \(alive(b.clock)) FROM dataset_files df
            JOIN instances i ON i.file_id = df.file_id
            WHERE df.dataset_id = \(a.datasetID) AND df.position >= \(lower) AND df.position < \(upper)
            AND (CASE WHEN \(placed(a)) THEN \(alive(a.clock)) ELSE false END)
                <> (CASE WHEN \(placed(b)) THEN \(alive(b.clock)) ELSE false END)
            ORDER BY df.position, i.id
            """
        return try await read { db in
            var entries: [VersionDiffEntry] = []
            for row in try await db.rows(PostgresQuery(unsafeSQL: fileSQL)) {
                let inA = try row.at(4, as: Bool.self), inB = try row.at(5, as: Bool.self)
                guard inA || inB else { continue }
                let kind: VersionDiffEntry.Kind? =
                    inA && inB ? (try row.at(2, as: Int64.self) != (try row.at(3, as: Int64.self)) ? .fileChanged : nil)
                    : inB ? .fileAdded : .fileRemoved
                if let kind { entries.append(VersionDiffEntry(kind: kind, position: try row.at(0), fileID: try row.at(1))) }
            }
            for row in try await db.rows(PostgresQuery(unsafeSQL: instanceSQL)) {
                entries.append(
                    VersionDiffEntry(
                        kind: try row.at(3, as: Bool.self) ? .instanceAdded : .instanceRemoved, position: try row.at(0),
                        fileID: try row.at(1), instanceID: try row.at(2)))
            }
            // Position order; at one position the file's entry first, then its instances by id.
            return entries.enumerated().sorted { x, y in
                (x.element.position, x.element.instanceID == nil ? 0 : 1, x.offset)
                    < (y.element.position, y.element.instanceID == nil ? 0 : 1, y.offset)
            }.map(\.element)
        }
    }

    // MARK: The change feed

    public func changes(datasetID: Int64, after cursor: Int64, limit: Int) async throws -> ChangePage {
        guard limit > 0 else { return ChangePage(datasetID: datasetID, cursor: cursor, changes: []) }
        return try await read { db in
            let changes = try await db.rows(
                """
                SELECT seq, kind, first_position, end_position FROM changes
                WHERE dataset_id = \(datasetID) AND seq > \(cursor) ORDER BY seq LIMIT \(Int64(limit))
                """
            ).map { row in
                let kindName = try row.at(1, as: String.self)
                guard let kind = ChangeKind(rawValue: kindName) else {
                    throw StoreError.invalid("change \(try row.at(0, as: Int64.self)) has unknown kind \(kindName)")
                }
                return DatasetChange(seq: try row.at(0), kind: kind, start: try row.at(2), end: try row.at(3))
            }
            return ChangePage(datasetID: datasetID, cursor: changes.last?.seq ?? cursor, changes: changes)
        }
    }

    public func changeCursor(datasetID: Int64) async throws -> Int64 {
        try await read { db in
            try await db.value("SELECT max(seq) FROM changes WHERE dataset_id = \(datasetID)", as: Int64.self) ?? 0
        }
    }

    /// The next number of the change sequence, drawn before the change is recorded (an
    /// import writes it as its files' revision first).
    static func drawChangeSeq(_ db: PostgresSession) async throws -> Int64 {
        try await db.value("SELECT nextval('changes_seq')", as: Int64.self)!
    }

    @discardableResult
    static func recordChange(
        _ db: PostgresSession, seq: Int64? = nil, datasetID: Int64, kind: ChangeKind, positions: Range<Int>,
        at time: Timestamp
    ) async throws -> Int64 {
        let seq = if let seq { seq } else { try await drawChangeSeq(db) }
        try await db.execute(
            """
            INSERT INTO changes (seq, dataset_id, kind, first_position, end_position, at)
            VALUES (\(seq), \(datasetID), \(kind.rawValue), \(Int64(positions.lowerBound)), \(Int64(positions.upperBound)),
                \(time.milliseconds))
            """)
        return seq
    }

    /// As `SQLiteStore.recordChanges`: a `changed` row per run of adjacent positions of the
    /// files in every dataset holding them (but not at `skipping`), and each file's revision
    /// set to the seq of the last row covering it, else `fallbackRevision`, else a fresh seq.
    static func recordChanges(
        _ db: PostgresSession, ofFiles fileIDs: some Collection<Int64>,
        skipping skipped: (datasetID: Int64, positions: Range<Int>)? = nil, fallbackRevision: Int64? = nil,
        at time: Timestamp
    ) async throws -> Set<Int64> {
        guard !fileIDs.isEmpty else { return [] }
        var places: [FilePlace] = []
        for row in try await db.rows(
            """
            SELECT dataset_id, position, file_id FROM dataset_files
            WHERE file_id = ANY(\(Array(fileIDs))) AND removed_at IS NULL
            """)
        {
            let datasetID: Int64 = try row.at(0), position: Int = try row.at(1)
            if let skipped, skipped.datasetID == datasetID, skipped.positions.contains(position) { continue }
            places.append(FilePlace(datasetID: datasetID, position: position, fileID: try row.at(2)))
        }
        var revisions: [Int64: Int64] = [:]
        for run in ChangeRuns.of(places) {
            let seq = try await recordChange(db, datasetID: run.datasetID, kind: .changed, positions: run.positions, at: time)
            // Rows are recorded in ascending seq: the last one to cover a file is its revision.
            for fileID in run.fileIDs { revisions[fileID] = seq }
        }
        var fallback = fallbackRevision
        for fileID in fileIDs {
            let revision: Int64
            if let seq = revisions[fileID] {
                revision = seq
            } else if let fallback {
                revision = fallback
            } else {
                revision = try await drawChangeSeq(db)
                fallback = revision
            }
            try await db.execute("UPDATE files SET revision = \(revision) WHERE id = \(fileID)")
        }
        return Set(places.map(\.datasetID))
    }

    /// Advances the store clock (docs/versions.md) and returns the new value: once per write
    /// transaction, before its first row.
    static func advanceClock(_ db: PostgresSession) async throws -> Int64 {
        try await db.value("UPDATE store_clock SET seq = seq + 1 RETURNING seq", as: Int64.self)!
    }

    static func advanceVersions(_ db: PostgresSession, ofDatasetsHolding fileID: Int64) async throws {
        try await db.execute(
            """
            UPDATE datasets SET version = version + 1 WHERE id IN (
                SELECT dataset_id FROM dataset_files WHERE file_id = \(fileID) AND removed_at IS NULL)
            """)
    }

    public func renameLabel(id: Int64, to name: String) async throws {
        try SQLiteStore.checkLabelName(name, field: "name")
        let changed = try await write { db in
            guard let projectID = try await db.value(
                "SELECT project_id FROM labels WHERE id = \(id) AND valid_to IS NULL", as: String.self)
            else { throw StoreError.invalid("no label with id \(id)") }
            if try await db.row("SELECT 1 FROM labels WHERE project_id = \(projectID) AND name = \(name) AND id <> \(id)") != nil {
                throw StoreError.conflict("project \(projectID) already has a label named '\(name)'")
            }
            // Before the update: the trigger keeps the old name until this clock value.
            _ = try await Self.advanceClock(db)
            try await db.execute("UPDATE labels SET name = \(name) WHERE id = \(id)")
            let files = try await db.values("SELECT file_id FROM label_counts WHERE label_id = \(id)", as: Int64.self)
            try await db.execute(
                """
                UPDATE datasets SET version = version + 1 WHERE id IN (
                    SELECT DISTINCT df.dataset_id FROM label_counts c JOIN dataset_files df ON df.file_id = c.file_id
                    WHERE c.label_id = \(id) AND df.removed_at IS NULL)
                """)
            return try await Self.recordChanges(db, ofFiles: files, at: Timestamp.now())
        }
        await notify(changed)
    }
}
