import GRDB
import SluiceModel

extension SQLiteStore {
    public func changes(datasetID: Int64, after cursor: Int64, limit: Int) async throws -> ChangePage {
        guard limit > 0 else { return ChangePage(datasetID: datasetID, cursor: cursor, changes: []) }
        return try await pool.read { db in
            let changes = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, kind, first_position, end_position FROM changes
                    WHERE dataset_id = ? AND seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [datasetID, cursor, limit]
            ).map { row in
                guard let kind = ChangeKind(rawValue: row[1]) else {
                    throw StoreError.invalid("change \(row[0] as Int64) has unknown kind \(row[1] as String)")
                }
                return DatasetChange(seq: row[0], kind: kind, start: row[2], end: row[3])
            }
            return ChangePage(datasetID: datasetID, cursor: changes.last?.seq ?? cursor, changes: changes)
        }
    }

    public func changeCursor(datasetID: Int64) async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT max(seq) FROM changes WHERE dataset_id = ?", arguments: [datasetID]) ?? 0
        }
    }

    // MARK: Recording, inside the write transactions of SQLiteStore+Writes.swift

    /// Takes the next number of the change sequence without recording a change: an import
    /// needs its seq before its first file row (each row is written with it as `revision`),
    /// and knows only at its end whether it appended anything.
    static func drawChangeSeq(_ db: GRDB.Database) throws -> Int64 {
        // sqlite_sequence holds the largest seq AUTOINCREMENT ever handed out, and ordinary
        // statements may change it (sqlite.org/autoinc.html): raising it reserves a number.
        try db.execute(sql: """
            INSERT INTO sqlite_sequence (name, seq)
            SELECT 'changes', coalesce((SELECT max(seq) FROM changes), 0)
            WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes')
            """)
        try db.execute(sql: "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'changes'")
        return try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'changes'")!
    }

    /// Appends a row to the change feed and returns its seq: `seq` when given (drawn earlier
    /// with `drawChangeSeq`), else the next one.
    @discardableResult
    static func recordChange(
        _ db: GRDB.Database, seq: Int64? = nil, datasetID: Int64, kind: ChangeKind, positions: Range<Int>, at time: Timestamp
    ) throws -> Int64 {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO changes (seq, dataset_id, kind, first_position, end_position, at) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [seq, datasetID, kind.rawValue, positions.lowerBound, positions.upperBound, time.milliseconds])
        return db.lastInsertedRowID
    }

    /// Records that the items of `fileIDs` changed: a `changed` row per run of adjacent
    /// positions in every dataset that holds them (but not at `skipping`, positions that an
    /// `added` row of the same write already covers), and each file's `revision` set to the
    /// seq of the last row that covers it, else to `fallbackRevision`, else to a fresh seq.
    /// Returns the datasets that got rows.
    static func recordChanges(
        _ db: GRDB.Database, ofFiles fileIDs: some Collection<Int64>,
        skipping skipped: (datasetID: Int64, positions: Range<Int>)? = nil, fallbackRevision: Int64? = nil,
        at time: Timestamp
    ) throws -> Set<Int64> {
        guard !fileIDs.isEmpty else { return [] }
        var places: [FilePlace] = []
        let holders = try db.cachedStatement(sql: "SELECT dataset_id, position FROM dataset_files WHERE file_id = ? AND removed_at IS NULL")
        for fileID in fileIDs {
            let rows = try Row.fetchCursor(holders, arguments: [fileID])
            while let row = try rows.next() {
                let datasetID: Int64 = row[0], position: Int = row[1]
                if let skipped, skipped.datasetID == datasetID, skipped.positions.contains(position) { continue }
                places.append(FilePlace(datasetID: datasetID, position: position, fileID: fileID))
            }
        }
        var revisions: [Int64: Int64] = [:]
        for run in ChangeRuns.of(places) {
            let seq = try recordChange(db, datasetID: run.datasetID, kind: .changed, positions: run.positions, at: time)
            // Rows are recorded in ascending seq: the last one to cover a file is its revision.
            for fileID in run.fileIDs { revisions[fileID] = seq }
        }
        // A file no dataset shows still gets a new revision: `File.revision` is served on its own too.
        var fallback = fallbackRevision
        let setRevision = try db.cachedStatement(sql: "UPDATE files SET revision = ? WHERE id = ?")
        for fileID in fileIDs {
            let revision: Int64
            if let seq = revisions[fileID] {
                revision = seq
            } else if let fallback {
                revision = fallback
            } else {
                revision = try drawChangeSeq(db)
                fallback = revision
            }
            try setRevision.execute(arguments: [revision, fileID])
        }
        return Set(places.map(\.datasetID))
    }
}
