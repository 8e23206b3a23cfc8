import Foundation
import NIOCore
import PostgresNIO
import SluiceModel

extension PostgresStore {
    /// Files an import appends before it refreshes the planner's statistics.
    static let analyzeAfterFiles = 10_000

    public func performImport<T: Sendable>(
        projectID: String, datasetName: String, _ body: @escaping @Sendable (any ImportWriter) throws -> T
    ) async throws -> T {
        let media = self.media
        let (result, changedDatasets, appendedFiles) = try await write { db in
            let dataset = try await Self.ensureDataset(db, projectID: projectID, name: datasetName)
            // As on SQLite: the import's seq is the revision of every file it creates and the
            // seq of its `added` row; its clock value is every new instance's valid_from.
            let seq = try await Self.drawChangeSeq(db)
            let clock = try await Self.advanceClock(db)
            let firstLabel = try await db.value("SELECT coalesce(max(id), 0) + 1 FROM labels", as: Int64.self)!
            // Row triggers skip this transaction's instances; one aggregate counts them at the end.
            try await db.execute("SELECT set_config('sluice.bulk_import', 'on', true)")
            // The commit is flushed before it returns even where the server commits
            // asynchronously (synchronous_commit = off, common for bulk loads): until then no
            // reader may set the rows' hint bits, and the VACUUM that follows a large import
            // marked no page all-visible, leaving slices to read the heap.
            try await db.execute("SET LOCAL synchronous_commit = on")
            let writer = PostgresImportWriter(
                session: db, projectID: projectID, dataset: dataset, media: media, firstNewLabel: firstLabel,
                revision: seq, clock: clock)
            let result: T
            do {
                result = try await ThreadBridge.onOwnThread { try body(writer) }
            } catch {
                // The batch in flight ends before the transaction is rolled back.
                await writer.abandon()
                throw error
            }
            try await writer.flush()
            try await db.execute("SELECT set_config('sluice.bulk_import', 'off', true)")
            if let firstInstance = writer.firstInstance {
                // The import's own files have no counts yet: theirs are plain inserts, and only
                // the counts of files that were there before go through ON CONFLICT (which
                // took 40% longer per row: 5.4 against 3.1 s for 200,000 files).
                let firstNewFile = writer.firstNewFile ?? .max
                try await db.execute(
                    """
                    WITH counts AS MATERIALIZED (
                        SELECT file_id, label_id, count(*) AS count FROM instances
                        WHERE id >= \(firstInstance) AND label_id IS NOT NULL AND deleted = 0 GROUP BY file_id, label_id
                    ), new_files AS (
                        INSERT INTO label_counts (file_id, label_id, count)
                        SELECT file_id, label_id, count FROM counts WHERE file_id >= \(firstNewFile)
                    )
                    INSERT INTO label_counts (file_id, label_id, count)
                    SELECT file_id, label_id, count FROM counts WHERE file_id < \(firstNewFile)
                    ON CONFLICT (file_id, label_id) DO UPDATE SET count = label_counts.count + excluded.count
                    """)
            }
            try await db.execute(
                "UPDATE datasets SET file_count = \(Int64(writer.nextPosition)), version = version + 1 WHERE id = \(dataset.id)")
            let appended = dataset.count..<writer.nextPosition
            if !appended.isEmpty {
                try await Self.recordChange(
                    db, seq: seq, datasetID: dataset.id, kind: .added, positions: appended, at: writer.time)
            }
            var changed = try await Self.recordChanges(
                db, ofFiles: writer.touchedFiles, skipping: (dataset.id, appended), fallbackRevision: seq, at: writer.time)
            for other in changed where other != dataset.id {
                try await db.execute("UPDATE datasets SET version = version + 1 WHERE id = \(other)")
            }
            if !appended.isEmpty { changed.insert(dataset.id) }
            // A large import changes the tables' shape: the planner's statistics follow at
            // once (autovacuum would, some minutes later), so a rare label's slice starts from
            // label_counts instead of walking the dataset.
            if appended.count >= Self.analyzeAfterFiles {
                try await db.execute("ANALYZE files, dataset_files, instances, label_counts")
            }
            return (result, changed, appended.count)
        }
        if appendedFiles >= Self.analyzeAfterFiles { await vacuumAfterImport() }
        await notify(changedDatasets)
        return result
    }

    /// Marks the pages a large import wrote as visible to every transaction, so that slices
    /// read label_counts and dataset_files from their covering indexes alone (PostgresSchema
    /// `coveringIndexes`); autovacuum would, some minutes later. Outside any transaction, as
    /// VACUUM must be; about 1.5 s at a million files. The import has committed: a failure
    /// here only leaves the work to autovacuum.
    ///
    /// VACUUM marks a page only when no snapshot older than the import's commit is open and
    /// nothing else holds the page at that moment: a checkpoint writing the import's pages
    /// made it skip whole tables here. The tables still short of marked are vacuumed again,
    /// a second apart, a few times.
    func vacuumAfterImport() async {
        var tables = ["files", "dataset_files", "label_counts"]
        for attempt in 0..<Self.vacuumAttempts where !tables.isEmpty {
            if attempt > 0 { try? await Task.sleep(for: .seconds(1)) }
            let statement = (attempt == 0 ? "VACUUM (ANALYZE) " : "VACUUM ") + tables.joined(separator: ", ")
            do {
                tables = try await client.withConnection { connection in
                    let db = PostgresSession(connection: connection, logger: logger)
                    try await db.execute(PostgresQuery(unsafeSQL: statement))
                    return try await Self.tablesShortOfVisible(db, tables)
                }
            } catch {
                return
            }
        }
    }

    static let vacuumAttempts = 4

    /// Those of `tables` with fewer than 90% of their pages marked all-visible.
    static func tablesShortOfVisible(_ db: PostgresSession, _ tables: [String]) async throws -> [String] {
        var names = PostgresBindings()
        names.append(tables)
        return try await db.values(
            PostgresQuery(
                unsafeSQL: """
                    SELECT c.relname::text FROM pg_class c
                    WHERE c.oid = ANY(SELECT to_regclass(t) FROM unnest($1::text[]) t)
                    AND c.relallvisible < 0.9 * c.relpages ORDER BY c.relname
                    """,
                binds: names),
            as: String.self)
    }
}

/// Writes of one import, inside the transaction `PostgresStore.performImport` opened.
///
/// Importers are synchronous (they parse on one thread while they write), and PostgresNIO is
/// not: the importer runs on a thread of its own, and this writer buffers rows as COPY text
/// and sends them a batch at a time, waiting for each. Ids come from the tables' sequences
/// in blocks, so a file or instance has its id before its row is sent.
final class PostgresImportWriter: ImportWriter, @unchecked Sendable {
    // @unchecked: used by one thread at a time: the import's thread while the importer runs,
    // then the store's task, which waits for that thread to end first.
    let session: PostgresSession
    let projectID: String
    let datasetID: Int64
    let media: MediaStore
    private(set) var nextPosition: Int
    let time = Timestamp.now()
    let firstNewLabel: Int64
    let revision: Int64
    let clock: Int64
    /// Files that existed before the import and whose item it changed.
    private(set) var touchedFiles: Set<Int64> = []
    /// The first instance id this import drew; its instances are those from here on (one
    /// writer at a time holds the sequence).
    private(set) var firstInstance: Int64?
    /// The first file id this import drew: files from here on are its own, new.
    private(set) var firstNewFile: Int64?

    private var fileIDs = IDBlock(sequence: "files_id_seq")
    private var instanceIDs = IDBlock(sequence: "instances_id_seq")
    private var files = ByteBuffer()
    private var places = ByteBuffer()
    private var instances = ByteBuffer()
    /// The batch on its way to the database, if any.
    private var sending: Task<Void, any Error>?
    /// Bytes buffered before a batch is sent.
    static let batchBytes = 4 << 20

    init(
        session: PostgresSession, projectID: String, dataset: Dataset, media: MediaStore, firstNewLabel: Int64,
        revision: Int64, clock: Int64
    ) {
        self.session = session
        self.projectID = projectID
        self.datasetID = dataset.id
        self.media = media
        self.nextPosition = dataset.count
        self.firstNewLabel = firstNewLabel
        self.revision = revision
        self.clock = clock
    }

    /// Waits on the import's thread for an operation of the store, after the batch being sent.
    func wait<R: Sendable>(_ operation: @escaping @Sendable (PostgresSession) async throws -> R) throws -> R {
        let session = session, sending = sending
        self.sending = nil
        return try ThreadBridge.wait {
            try await sending?.value
            return try await operation(session)
        }
    }

    // MARK: ImportWriter

    func upsertLabel(_ label: NewLabel) throws -> Int64 {
        let projectID = projectID
        if let id = try wait({ db in
            try await db.value("SELECT id FROM labels WHERE project_id = \(projectID) AND name = \(label.name)", as: Int64.self)
        }) {
            try updateLabel(id: id, with: label)
            return id
        }
        let clock = clock
        let keypoints = try label.keypointNames.map(JSONColumn.encode)
        let skeleton = try label.skeleton.map(JSONColumn.encode)
        return try wait { db in
            try await db.value(
                """
                INSERT INTO labels (project_id, name, color, supercategory, keypoint_names, skeleton, source_id, valid_from)
                VALUES (\(projectID), \(label.name), \(label.color ?? Label.defaultColor(for: label.name)),
                    \(label.supercategory), \(keypoints), \(skeleton), \(label.sourceID), \(clock))
                RETURNING id
                """, as: Int64.self)!
        }
    }

    func updateLabel(id: Int64, with label: NewLabel) throws {
        let projectID = projectID
        if id < firstNewLabel,
            let name = try wait({ db in try await db.value("SELECT name FROM labels WHERE id = \(id)", as: String.self) }),
            name != label.name
        {
            try touchFiles(withInstancesOf: id)
        }
        let keypoints = try label.keypointNames.map(JSONColumn.encode)
        let skeleton = try label.skeleton.map(JSONColumn.encode)
        try wait { db in
            try await db.execute(
                """
                UPDATE labels SET name = \(label.name), color = coalesce(\(label.color), color),
                    supercategory = coalesce(\(label.supercategory), supercategory),
                    keypoint_names = coalesce(\(keypoints), keypoint_names), skeleton = coalesce(\(skeleton), skeleton),
                    source_id = coalesce(\(label.sourceID), source_id)
                WHERE id = \(id) AND project_id = \(projectID)
                """)
        }
    }

    func mergeLabel(_ source: Int64, into target: Int64) throws {
        guard source != target else { return }
        if source < firstNewLabel { try touchFiles(withInstancesOf: source) }
        try flushNow()
        let projectID = projectID
        try wait { db in
            try await db.execute("UPDATE instances SET label_id = \(target) WHERE label_id = \(source)")
            try await db.execute("DELETE FROM labels WHERE id = \(source) AND project_id = \(projectID)")
        }
    }

    private func touchFiles(withInstancesOf labelID: Int64) throws {
        let files = try wait { db in
            try await db.values("SELECT file_id FROM label_counts WHERE label_id = \(labelID)", as: Int64.self)
        }
        touchedFiles.formUnion(files.filter { $0 < (firstNewFile ?? .max) })
    }

    func insertFile(_ file: NewFile) throws -> Int64 {
        let id = try fileIDs.next(self)
        if firstNewFile == nil { firstNewFile = id }
        var row = CopyRow(taking: &files)
        row.add(id)
        addFileFields(file, to: &row)
        row.add(time.milliseconds)
        row.add(time.milliseconds)
        row.add(revision)
        files = row.end()
        try flushIfFull()
        return id
    }

    func updateFile(id: Int64, with file: NewFile) throws {
        try flushNow()
        let projectID = projectID, time = time
        let metadata = JSONColumn.encodeObject(file.metadata)
        try wait { db in
            try await db.execute(
                """
                UPDATE files SET project_id = \(projectID), type = \(file.type.rawValue), name = \(file.name),
                    sha256 = \(file.media.sha256), mime_type = \(file.media.mimeType), byte_size = \(file.media.byteSize),
                    width = \(file.media.width), height = \(file.media.height), frame_count = \(file.media.frameCount),
                    frame_rate = \(file.media.frameRate), metadata = \(metadata), status = \(file.status.rawValue),
                    updated_at = \(time.milliseconds)
                WHERE id = \(id)
                """)
        }
        if id < (firstNewFile ?? .max) { touchedFiles.insert(id) }
    }

    private func addFileFields(_ file: NewFile, to row: inout CopyRow) {
        row.add(projectID)
        row.add(file.type.rawValue)
        row.add(file.name)
        row.add(file.media.sha256)
        row.add(file.media.mimeType)
        row.add(file.media.byteSize)
        row.add(file.media.width.map(Int64.init))
        row.add(file.media.height.map(Int64.init))
        row.add(file.media.frameCount.map(Int64.init))
        row.add(file.media.frameRate)
        row.add(JSONColumn.encodeObject(file.metadata))
        row.add(file.status.rawValue)
    }

    func append(fileID: Int64) throws -> Int {
        let position = nextPosition
        var row = CopyRow(taking: &places)
        row.add(datasetID)
        row.add(Int64(position))
        row.add(fileID)
        places = row.end()
        nextPosition += 1
        return position
    }

    func insertInstance(_ instance: NewInstance) throws -> Int64 {
        guard instance.geometry.hasPrimaryPart(for: instance.kind) else {
            throw StoreError.invalid("a \(instance.kind.rawValue) instance needs its \(instance.kind.rawValue) geometry")
        }
        if instance.fileID < (firstNewFile ?? .max) { touchedFiles.insert(instance.fileID) }
        let id = try instanceIDs.next(self)
        if firstInstance == nil { firstInstance = id }
        let bbox = instance.bbox ?? instance.geometry.bounds(for: instance.kind)
        var row = CopyRow(taking: &instances)
        row.add(id)
        row.add(instance.fileID)
        row.add(instance.labelID)
        row.add(instance.kind.rawValue)
        row.add(bbox?.xMin)
        row.add(bbox?.yMin)
        row.add(bbox?.xMax)
        row.add(bbox?.yMax)
        row.add(instance.area)
        row.add(instance.isCrowd ? 1 : 0 as Int64)
        row.add(instance.score)
        row.add(instance.frame.map(Int64.init))
        row.add(instance.track.map(Int64.init))
        row.add(JSONColumn.encodeGeometry(instance.geometry))
        row.add(JSONColumn.encodeObject(instance.attributes))
        row.add(JSONColumn.encodeObject(instance.metadata))
        row.add(instance.creator)
        row.add(time.milliseconds)
        row.add(time.milliseconds)
        row.add(clock)
        instances = row.end()
        try flushIfFull()
        return id
    }

    func storeMedia(at path: String) throws -> StoredMedia {
        try media.put(fileAt: path)
    }

    func storedMedia(sha256: String) throws -> StoredMedia? {
        try media.describe(sha256: sha256)
    }

    // MARK: Batches

    /// A full buffer goes to the database while the importer goes on parsing: one batch in
    /// flight, the next one filling.
    private func flushIfFull() throws {
        guard files.readableBytes + places.readableBytes + instances.readableBytes >= Self.batchBytes else { return }
        let previous = sending, batch = takeBatch(), session = session
        if let previous { try ThreadBridge.wait { try await previous.value } }
        sending = Task { try await Self.send(batch, session) }
    }

    /// Sends the buffered rows from the import's thread, and waits until they are in.
    private func flushNow() throws {
        let batch = takeBatch()
        try wait { db in try await Self.send(batch, db) }
    }

    /// Waits for the batch in flight, if any, ignoring how it ended: the import failed.
    func abandon() async {
        _ = try? await sending?.value
        sending = nil
    }

    /// Sends what is left and moves the sequences past the ids this import gave out, from the
    /// store's task once the importer has returned.
    func flush() async throws {
        try await sending?.value
        sending = nil
        try await Self.send(takeBatch(), session)
        try await fileIDs.finish(session)
        try await instanceIDs.finish(session)
    }

    private struct Batch: Sendable {
        var files, places, instances: ByteBuffer
        var isEmpty: Bool { files.readableBytes + places.readableBytes + instances.readableBytes == 0 }
    }

    private func takeBatch() -> Batch {
        defer {
            files = ByteBuffer()
            places = ByteBuffer()
            instances = ByteBuffer()
        }
        return Batch(files: files, places: places, instances: instances)
    }

    /// Files first, then their places and instances, which refer to them.
    private static func send(_ batch: Batch, _ db: PostgresSession) async throws {
        let tables: [(String, [String], ByteBuffer)] = [
            (
                "files",
                [
                    "id", "project_id", "type", "name", "sha256", "mime_type", "byte_size", "width", "height", "frame_count",
                    "frame_rate", "metadata", "status", "created_at", "updated_at", "revision",
                ], batch.files
            ),
            ("dataset_files", ["dataset_id", "position", "file_id"], batch.places),
            (
                "instances",
                [
                    "id", "file_id", "label_id", "kind", "x_min", "y_min", "x_max", "y_max", "area", "iscrowd", "score",
                    "frame", "track", "geometry", "attributes", "metadata", "creator", "created_at", "updated_at",
                    "valid_from",
                ], batch.instances
            ),
        ]
        for (table, columns, rows) in tables where rows.readableBytes > 0 {
            try await db.connection.copyFrom(table: table, columns: columns, logger: db.logger) { writer in
                try await writer.write(rows)
            }
        }
    }

    /// Ids of one table for this import. Writers take turns (the store clock's row), so no
    /// one else draws from the sequence meanwhile: the import takes one value, counts on from
    /// it itself, and moves the sequence past the last id it gave before it commits.
    private struct IDBlock {
        let sequence: String
        var next: Int64?

        mutating func next(_ writer: PostgresImportWriter) throws -> Int64 {
            if next == nil {
                let sequence = sequence
                next = try writer.wait { db in
                    try await db.value("SELECT nextval(\(sequence)::regclass)", as: Int64.self)!
                }
            }
            defer { next! += 1 }
            return next!
        }

        /// After the last id: the sequence's next value is above every id given out.
        func finish(_ db: PostgresSession) async throws {
            guard let next else { return }
            try await db.execute("SELECT setval(\(sequence)::regclass, \(next - 1))")
        }
    }
}

/// One row of COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
struct CopyRow {
    private var buffer: ByteBuffer
    private var first = true

    /// Takes the buffer over, so that rows are appended to it in place, not to a copy;
    /// `end()` gives it back.
    init(taking buffer: inout ByteBuffer) {
        self.buffer = buffer
        buffer = ByteBuffer()
    }

    private mutating func separate() {
        if !first { buffer.writeInteger(UInt8(ascii: "\t")) }
        first = false
    }

    mutating func add(_ value: Int64?) {
        separate()
        guard let value else { return null() }
        buffer.writeString(String(value))
    }

    mutating func add(_ value: Double?) {
        separate()
        guard let value else { return null() }
        // Swift prints the shortest text that reads back as the same Double.
        buffer.writeString(value.isFinite ? "\(value)" : value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity")
    }

    mutating func add(_ value: String?) {
        separate()
        guard let value else { return null() }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            default: buffer.writeInteger(byte)
            }
        }
    }

    private mutating func null() {
        buffer.writeStaticString("\\N")
    }

    /// The buffer with the row ended.
    mutating func end() -> ByteBuffer {
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }
}
