import Foundation
import GRDB
import NIOCore
import PostgresNIO
import SluiceModel

/// Moving an embedded store up to PostgreSQL (`sluice migrate --from-data DIR --postgres URL`):
/// every table row for row (version history, snapshots, change feed and keys included, ids
/// kept), the media its files reference, then a verification that reads both back.
public enum StoreMigration {
    /// The tables, in an order that satisfies their foreign keys. Both engines have the same
    /// columns under the same names, so rows are copied by column name.
    static let tables = [
        "projects", "labels", "attribute_groups", "datasets", "files", "dataset_files", "instances", "label_counts",
        "changes", "api_keys", "server_keys", "store_clock", "label_names", "file_revisions", "dataset_versions",
        "snapshots", "dataset_tags", "dataset_tag_revisions",
    ]
    /// Tables whose ids come from a sequence, which must continue after the copied ids.
    static let sequencedTables = ["labels", "attribute_groups", "datasets", "files", "instances", "snapshots"]
    /// Tables with triggers, off while their rows arrive: the rows carry what the triggers
    /// would have written (label counts, versions, old names and revisions) already.
    static let triggeredTables = ["labels", "datasets", "files", "instances"]

    public struct Progress: Sendable {
        public var table: String
        public var rows: Int
        public var totalRows: Int
        public var seconds: Double
    }

    public struct Summary: Sendable {
        /// Rows copied per table.
        public var rows: [String: Int]
        public var media: Int
        /// Streams read back from both stores and found byte-identical: each dataset now and
        /// at each of its snapshots.
        public var streamsVerified: Int
        public var seconds: Double
    }

    /// Copies `source` into `target`, which must hold no project yet, in one transaction;
    /// then its media; then verifies. Throws, naming the first difference, when the two do
    /// not read the same.
    public static func migrate(
        from source: SQLiteStore, to target: PostgresStore, progress: @escaping @Sendable (Progress) -> Void
    ) async throws -> Summary {
        let started = Date()
        let totals = try await source.pool.read { db in
            try tables.map { try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? 0 }
        }
        let totalRows = totals.reduce(0, +)
        let rows = try await target.write { db in
            guard try await db.value("SELECT count(*) FROM projects", as: Int.self) == 0 else {
                throw StoreError.conflict("the PostgreSQL store holds projects already: migrate into an empty one")
            }
            for table in triggeredTables {
                try await db.execute(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) DISABLE TRIGGER USER"))
            }
            // The copied clock replaces the fresh one.
            try await db.execute("DELETE FROM store_clock")
            let copied = try await ThreadBridge.onOwnThread {
                try copyRows(from: source, into: db, totalRows: totalRows, started: started, progress: progress)
            }
            for table in triggeredTables {
                try await db.execute(PostgresQuery(unsafeSQL: "ALTER TABLE \(table) ENABLE TRIGGER USER"))
            }
            for table in sequencedTables {
                try await db.execute(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(table)
                            """))
            }
            // The largest seq handed out, which may be above the newest row (a change feed's
            // cursor must never be reused).
            let handedOut = try await source.pool.read { db in
                try Int64.fetchOne(
                    db, sql: "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0), coalesce((SELECT max(seq) FROM changes), 0))")
            } ?? 0
            try await db.execute("SELECT setval('changes_seq', \(handedOut + 1), false)")
            return copied
        }
        let media = try await copyMedia(from: source, to: target)
        let streams = try await verify(source, target, rows: rows)
        return Summary(rows: rows, media: media, streamsVerified: streams, seconds: Date().timeIntervalSince(started))
    }

    /// Reads every table in one SQLite read transaction, sending COPY batches as it goes.
    private static func copyRows(
        from source: SQLiteStore, into db: PostgresSession, totalRows: Int, started: Date,
        progress: @escaping @Sendable (Progress) -> Void
    ) throws -> [String: Int] {
        try source.pool.read { sqlite in
            var copied: [String: Int] = [:]
            var done = 0
            for table in tables {
                let cursor = try Row.fetchCursor(sqlite, sql: "SELECT * FROM \(table)")
                let columns = cursor.columnNames
                var buffer = ByteBuffer()
                var count = 0
                func send() throws {
                    guard buffer.readableBytes > 0 else { return }
                    let batch = buffer
                    buffer = ByteBuffer()
                    try ThreadBridge.wait {
                        try await db.connection.copyFrom(table: table, columns: columns, logger: db.logger) { writer in
                            try await writer.write(batch)
                        }
                    }
                    progress(
                        Progress(table: table, rows: done + count, totalRows: totalRows, seconds: Date().timeIntervalSince(started)))
                }
                while let row = try cursor.next() {
                    var copyRow = CopyRow(taking: &buffer)
                    for value in row.databaseValues {
                        switch value.storage {
                        case .null: copyRow.add(nil as String?)
                        case .int64(let v): copyRow.add(v)
                        case .double(let v): copyRow.add(v)
                        case .string(let v): copyRow.add(v)
                        // bytea's hex input: \x and two digits a byte.
                        case .blob(let v): copyRow.add("\\x" + v.map { String(format: "%02x", $0) }.joined())
                        }
                    }
                    buffer = copyRow.end()
                    count += 1
                    if buffer.readableBytes >= 4 << 20 { try send() }
                }
                try send()
                copied[table] = count
                done += count
            }
            return copied
        }
    }

    /// Links or copies the blobs the files reference into the target's media directory (a
    /// blob it has already stays), checking each one's hash. Returns how many were moved.
    private static func copyMedia(from source: SQLiteStore, to target: PostgresStore) async throws -> Int {
        let hashes = try await source.pool.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM files WHERE sha256 IS NOT NULL")
        }
        guard source.media.root.standardizedFileURL != target.media.root.standardizedFileURL else { return 0 }
        var copier = MediaCopier(from: source.media.root, to: target.media.root, transfer: .linkOrCopy)
        var moved = 0
        for sha256 in hashes where !target.media.contains(sha256) {
            _ = try copier.move(sha256)
            moved += 1
        }
        return moved
    }

    /// Row counts of every table, and the bytes of every dataset's stream now and at each of
    /// its snapshots, read back from both stores. Returns how many streams matched.
    static func verify(_ source: SQLiteStore, _ target: PostgresStore, rows: [String: Int]) async throws -> Int {
        let counts = try await target.read { db in
            var counts: [String: Int] = [:]
            for table in tables {
                counts[table] = try await db.value(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), as: Int.self)
            }
            return counts
        }
        for table in tables where counts[table] != rows[table] {
            throw StoreError.invalid(
                "verification failed: \(table) has \(counts[table] ?? 0) rows in PostgreSQL, \(rows[table] ?? 0) copied")
        }
        var streams = 0
        for project in try await source.projects() {
            for dataset in try await source.datasets(projectID: project.id) {
                var versions: [(String, VersionPoint?)] = [("now", nil)]
                for snapshot in try await source.snapshots(datasetID: dataset.id) {
                    versions.append(
                        ("snapshot \(snapshot.name)", try await source.versionPoint(datasetID: dataset.id, version: snapshot.version)))
                }
                for (name, version) in versions {
                    let a = try await streamChecksum(source, dataset, at: version)
                    let b = try await streamChecksum(target, dataset, at: version)
                    guard a == b else {
                        throw StoreError.invalid(
                            "verification failed: \(project.id)/\(dataset.name) (\(name)) streams differently from PostgreSQL")
                    }
                    streams += 1
                }
            }
        }
        return streams
    }

    /// FNV-1a over the wire JSON of every item of the dataset (now, or at `version`), a
    /// newline after each: what a stream of it sends.
    public static func streamChecksum(_ store: any Store, _ dataset: Dataset, at version: VersionPoint?) async throws
        -> UInt64
    {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let count = version?.count ?? dataset.count
        var start = 0
        while start < count {
            let range = start..<min(count, start + 512)
            let items =
                if let version {
                    try await store.storedItems(datasetID: dataset.id, range: range, at: version)
                } else {
                    try await store.storedItems(datasetID: dataset.id, range: range)
                }
            for item in items {
                var out = JSONOutput()
                out.item(item)
                for byte in out.bytes + [10] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            }
            start = range.upperBound
        }
        return hash
    }
}
