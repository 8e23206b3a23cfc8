import GRDB
import GRDBSQLite
import SluiceModel

extension SQLiteStore {
    public func performImport<T: Sendable>(
        projectID: String, datasetName: String, _ body: @escaping @Sendable (any ImportWriter) throws -> T
    ) async throws -> T {
        let media = self.media
        let (result, changedDatasets) = try await pool.write { db in
            let dataset = try Self.ensureDataset(db, projectID: projectID, name: datasetName)
            // Rowids of INTEGER PRIMARY KEY tables grow from the largest: this import's
            // instances, files and labels are exactly those from here on.
            let firstInstance = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM instances") ?? 1
            let firstFile = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM files") ?? 1
            let firstLabel = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM labels") ?? 1
            // The import's own seq: the revision of every file it creates, and the seq of its
            // `added` row. Files are written with it, so no second pass over them is needed.
            let seq = try Self.drawChangeSeq(db)
            // The clock value of this write: the valid_from of every instance it inserts.
            let clock = try Self.advanceClock(db)
            // One aggregate beats a counted upsert per row. The DDL is part of this write
            // transaction: no other writer runs meanwhile, WAL readers see the old schema,
            // and a rollback restores the triggers with everything else.
            try db.execute(sql: "DROP TRIGGER instances_count_insert; DROP TRIGGER instances_count_update")
            try db.execute(sql: "PRAGMA cache_size = -262144")
            defer { try? db.execute(sql: "PRAGMA cache_size = -65536") }
            let writer = try SQLiteImportWriter(
                db: db, projectID: projectID, dataset: dataset, media: media, firstNewFile: firstFile,
                firstNewLabel: firstLabel, revision: seq, clock: clock, instancesBefore: firstInstance - 1)
            let result = try body(writer)
            // Before the count, which scans the per-file index.
            try writer.createDroppedIndexes()
            try Self.countLabels(db, fromInstance: firstInstance, rebuildingIndex: writer.droppedIndexes)
            try db.execute(sql: "DROP TRIGGER instances_count_delete")
            try db.execute(sql: Migrations.labelCountTriggers)
            try db.execute(
                sql: "UPDATE datasets SET file_count = ?, version = version + 1 WHERE id = ?",
                arguments: [writer.nextPosition, dataset.id])
            // One row for everything appended, however many files: positions are dense, so
            // the appended ones are one range.
            let appended = dataset.count..<writer.nextPosition
            if !appended.isEmpty {
                try Self.recordChange(
                    db, seq: seq, datasetID: dataset.id, kind: .added, positions: appended, at: writer.time)
            }
            var changed = try Self.recordChanges(
                db, ofFiles: writer.touchedFiles, skipping: (dataset.id, appended), fallbackRevision: seq,
                at: writer.time)
            // Files of other datasets that this import changed change what those stream too.
            for other in changed where other != dataset.id {
                try db.execute(sql: "UPDATE datasets SET version = version + 1 WHERE id = ?", arguments: [other])
            }
            if !appended.isEmpty { changed.insert(dataset.id) }
            return (result, changed)
        }
        changeNotifier.notify(datasetIDs: changedDatasets)
        return result
    }

    /// Adds the label counts of the instances from `firstInstance` on. When the import was
    /// large enough to drop the instance indexes, the label-count index is rebuilt too: a
    /// sort after the inserts costs less than inserting into it row by row.
    private static func countLabels(_ db: GRDB.Database, fromInstance firstInstance: Int64, rebuildingIndex: Bool) throws {
        if rebuildingIndex { try db.execute(sql: "DROP INDEX \(Migrations.labelCountIndex.name)") }
        try db.execute(
            sql: """
                INSERT INTO label_counts (file_id, label_id, count)
                SELECT file_id, label_id, count(*) FROM instances
                WHERE id >= ? AND label_id IS NOT NULL AND deleted = 0 GROUP BY file_id, label_id
                ON CONFLICT (file_id, label_id) DO UPDATE SET count = count + excluded.count
                """,
            arguments: [firstInstance])
        if rebuildingIndex { try createIndexes([Migrations.labelCountIndex.sql], db) }
    }

    /// Creates indexes on large tables with SQLite's sorter tuned for it: a small page cache
    /// makes it sort in runs that helper threads merge in parallel (at 7M rows, 6 s against
    /// 11 s for one in-memory sort), and the runs go to temporary files, not memory.
    static func createIndexes(_ statements: [String], _ db: GRDB.Database) throws {
        let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -65536
        try db.execute(sql: "PRAGMA temp_store = FILE; PRAGMA threads = 2; PRAGMA cache_size = -8192")
        defer { try? db.execute(sql: "PRAGMA temp_store = MEMORY; PRAGMA threads = 0; PRAGMA cache_size = \(cacheSize)") }
        for statement in statements { try db.execute(sql: statement) }
    }

    public func addInstance(_ instance: Instance) async throws -> Instance {
        let (added, changedDatasets) = try await pool.write { db in
            guard let projectID = try String.fetchOne(
                db, sql: "SELECT project_id FROM files WHERE id = ?", arguments: [instance.fileID])
            else { throw StoreError.fileNotFound(instance.fileID) }
            if let labelID = instance.labelID {
                let owner = try String.fetchOne(db, sql: "SELECT project_id FROM labels WHERE id = ? AND valid_to IS NULL", arguments: [labelID])
                guard owner == projectID else { throw StoreError.invalid("label \(labelID) is not in project \(projectID)") }
            }
            let row = NewInstance(
                fileID: instance.fileID, labelID: instance.labelID, kind: instance.kind, bbox: instance.bbox,
                geometry: instance.geometry, area: instance.area, isCrowd: instance.isCrowd, score: instance.score,
                frame: instance.frame, track: instance.track, attributes: instance.attributes,
                metadata: instance.metadata, creator: instance.creator)
            let now = Timestamp.now()
            let id = try Self.insertInstance(db, row, at: now, validFrom: try Self.advanceClock(db))
            try Self.advanceVersions(db, ofDatasetsHolding: instance.fileID)
            let changed = try Self.recordChanges(db, ofFiles: [instance.fileID], at: now)
            let stored = try Row.fetchOne(
                db,
                sql: "SELECT \(Self.instanceColumns) FROM instances i LEFT JOIN labels l ON l.id = i.label_id WHERE i.id = ?",
                arguments: [id])!
            return (try Self.storedInstance(stored).decoded(), changed)
        }
        changeNotifier.notify(datasetIDs: changedDatasets)
        return added
    }

    public func deleteInstance(id: Int64) async throws {
        let changedDatasets = try await pool.write { db in
            guard let fileID = try Int64.fetchOne(
                db, sql: "SELECT file_id FROM instances WHERE id = ? AND deleted = 0", arguments: [id])
            else { throw StoreError.instanceNotFound(id) }
            let now = Timestamp.now()
            // The row stays as it was, closed at this clock value: versions before it still
            // show the instance, byte for byte (so updated_at is not touched either).
            let clock = try Self.advanceClock(db)
            try db.execute(sql: "UPDATE instances SET deleted = 1, valid_to = ? WHERE id = ?", arguments: [clock, id])
            try Self.advanceVersions(db, ofDatasetsHolding: fileID)
            return try Self.recordChanges(db, ofFiles: [fileID], at: now)
        }
        changeNotifier.notify(datasetIDs: changedDatasets)
    }

    /// Advances the store's clock (docs/versions.md) and returns the new value. Every write
    /// transaction calls it once, before its first row: rows written and closed by the
    /// transaction carry it, and the dataset versions it creates read at it.
    static func advanceClock(_ db: GRDB.Database) throws -> Int64 {
        try db.execute(sql: "UPDATE store_clock SET seq = seq + 1")
        return try Int64.fetchOne(db, sql: "SELECT seq FROM store_clock")!
    }

    static func advanceVersions(_ db: GRDB.Database, ofDatasetsHolding fileID: Int64) throws {
        try db.execute(
            sql: "UPDATE datasets SET version = version + 1 WHERE id IN (SELECT dataset_id FROM dataset_files WHERE file_id = ? AND removed_at IS NULL)",
            arguments: [fileID])
    }

    static let insertInstanceSQL = """
        INSERT INTO instances (file_id, label_id, kind, x_min, y_min, x_max, y_max, area, iscrowd, score, frame,
            track, geometry, attributes, metadata, creator, created_at, updated_at, valid_from)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static func insertInstance(
        _ db: GRDB.Database, _ instance: NewInstance, at time: Timestamp, validFrom clock: Int64
    ) throws -> Int64 {
        guard instance.geometry.hasPrimaryPart(for: instance.kind) else {
            throw StoreError.invalid("a \(instance.kind.rawValue) instance needs its \(instance.kind.rawValue) geometry")
        }
        let bbox = instance.bbox ?? instance.geometry.bounds(for: instance.kind)
        let statement = try db.cachedStatement(sql: insertInstanceSQL)
        // Bound through the C API: this runs once per instance of every import, and
        // GRDB's boxed StatementArguments cost more than the insert itself.
        var bind = RawBindings(statement)
        bind.add(instance.fileID)
        bind.add(instance.labelID)
        bind.add(instance.kind.rawValue)
        bind.add(bbox?.xMin)
        bind.add(bbox?.yMin)
        bind.add(bbox?.xMax)
        bind.add(bbox?.yMax)
        bind.add(instance.area)
        bind.add(instance.isCrowd ? 1 : 0 as Int64)
        bind.add(instance.score)
        bind.add(instance.frame.map(Int64.init))
        bind.add(instance.track.map(Int64.init))
        bind.add(JSONColumn.encodeGeometry(instance.geometry))
        bind.add(JSONColumn.encodeObject(instance.attributes))
        bind.add(JSONColumn.encodeObject(instance.metadata))
        bind.add(instance.creator)
        bind.add(time.milliseconds)
        bind.add(time.milliseconds)
        bind.add(clock)
        try bind.step(in: db)
        return db.lastInsertedRowID
    }
}

/// Writes of one import, inside the transaction `SQLiteStore.performImport` opened.
final class SQLiteImportWriter: ImportWriter {
    let db: GRDB.Database
    let projectID: String
    let datasetID: Int64
    let media: MediaStore
    /// Position the next appended file gets.
    private(set) var nextPosition: Int
    /// One timestamp for the whole import: its rows were all created in one transaction.
    let time = Timestamp.now()
    /// Files and labels with smaller ids existed before the import.
    let firstNewFile: Int64
    let firstNewLabel: Int64
    /// The import's seq: the revision of the files it creates.
    let revision: Int64
    /// The store clock value of the import: its instances' valid_from.
    let clock: Int64
    /// Files that existed before the import and whose item it changed: their change rows
    /// and revisions are written at the end. One comparison per row keeps the new files,
    /// nearly always all of them, out of it.
    private(set) var touchedFiles: Set<Int64> = []
    /// Rows `instances` held before the import (its largest id), and those inserted since.
    private let instancesBefore: Int64
    private var instancesInserted: Int64 = 0
    /// Whether the import dropped `instances`' secondary indexes (`bulkLoad`).
    private(set) var droppedIndexes = false

    /// Inserting into the box index in random order costs about twice what building it
    /// with a sort costs: at 7M rows, 20 s against 6–11 s. But a rebuild reads the whole
    /// table, so an import drops the indexes only once it has inserted as many rows as the
    /// table held before it: from there every row it adds is a gain, and a small import
    /// into a large store never pays for a rebuild.
    static let smallestBulkLoad: Int64 = 50_000

    init(
        db: GRDB.Database, projectID: String, dataset: Dataset, media: MediaStore, firstNewFile: Int64,
        firstNewLabel: Int64, revision: Int64, clock: Int64, instancesBefore: Int64
    ) throws {
        self.instancesBefore = instancesBefore
        self.clock = clock
        self.db = db
        self.projectID = projectID
        self.datasetID = dataset.id
        self.media = media
        self.nextPosition = dataset.count
        self.firstNewFile = firstNewFile
        self.firstNewLabel = firstNewLabel
        self.revision = revision
    }

    func upsertLabel(_ label: NewLabel) throws -> Int64 {
        if let id = try Int64.fetchOne(
            db, sql: "SELECT id FROM labels WHERE project_id = ? AND name = ?", arguments: [projectID, label.name])
        {
            try updateLabel(id: id, with: label)
            return id
        }
        try db.execute(
            sql: """
                INSERT INTO labels (project_id, name, color, supercategory, keypoint_names, skeleton, source_id, valid_from)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                projectID, label.name, label.color ?? Label.defaultColor(for: label.name), label.supercategory,
                try label.keypointNames.map(JSONColumn.encode), try label.skeleton.map(JSONColumn.encode),
                label.sourceID, clock,
            ])
        return db.lastInsertedRowID
    }

    func updateLabel(id: Int64, with label: NewLabel) throws {
        if id < firstNewLabel,
            let name = try String.fetchOne(db, sql: "SELECT name FROM labels WHERE id = ?", arguments: [id]),
            name != label.name
        {
            // Instances carry their label's name on the wire: renaming changes their items.
            try touchFiles(withInstancesOf: id)
        }
        try db.execute(
            sql: """
                UPDATE labels SET name = ?, color = coalesce(?, color), supercategory = coalesce(?, supercategory),
                    keypoint_names = coalesce(?, keypoint_names), skeleton = coalesce(?, skeleton),
                    source_id = coalesce(?, source_id)
                WHERE id = ? AND project_id = ?
                """,
            arguments: [
                label.name, label.color, label.supercategory, try label.keypointNames.map(JSONColumn.encode),
                try label.skeleton.map(JSONColumn.encode), label.sourceID, id, projectID,
            ])
    }

    func mergeLabel(_ source: Int64, into target: Int64) throws {
        guard source != target else { return }
        if source < firstNewLabel { try touchFiles(withInstancesOf: source) }
        // In place: versions before this import would see the instances move. Only labels the
        // import created itself (COCO's placeholders) are merged, whose instances no earlier
        // version shows; a merge of older labels must copy the rows instead (docs/versions.md).
        // Through UPDATE, so the label-count trigger moves the counts too.
        try db.execute(sql: "UPDATE instances SET label_id = ? WHERE label_id = ?", arguments: [target, source])
        try db.execute(sql: "DELETE FROM labels WHERE id = ? AND project_id = ?", arguments: [source, projectID])
    }

    /// The files with live instances of a label that existed before the import (whose
    /// label counts are therefore up to date) join `touchedFiles`.
    private func touchFiles(withInstancesOf labelID: Int64) throws {
        let files = try Int64.fetchAll(db, sql: "SELECT file_id FROM label_counts WHERE label_id = ?", arguments: [labelID])
        touchedFiles.formUnion(files.filter { $0 < firstNewFile })
    }

    func insertFile(_ file: NewFile) throws -> Int64 {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO files (project_id, type, name, sha256, mime_type, byte_size, width, height, frame_count,
                frame_rate, metadata, status, created_at, updated_at, revision)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.setUncheckedArguments(try fileArguments(file) + [time.milliseconds, time.milliseconds, revision])
        try statement.execute()
        return db.lastInsertedRowID
    }

    func updateFile(id: Int64, with file: NewFile) throws {
        let statement = try db.cachedStatement(sql: """
            UPDATE files SET project_id = ?, type = ?, name = ?, sha256 = ?, mime_type = ?, byte_size = ?, width = ?,
                height = ?, frame_count = ?, frame_rate = ?, metadata = ?, status = ?, updated_at = ?
            WHERE id = ?
            """)
        statement.setUncheckedArguments(try fileArguments(file) + [time.milliseconds, id])
        try statement.execute()
        if id < firstNewFile { touchedFiles.insert(id) }
    }

    private func fileArguments(_ file: NewFile) throws -> StatementArguments {
        [
            projectID, file.type.rawValue, file.name, file.media.sha256, file.media.mimeType, file.media.byteSize,
            file.media.width, file.media.height, file.media.frameCount, file.media.frameRate,
            JSONColumn.encodeObject(file.metadata), file.status.rawValue,
        ]
    }

    func append(fileID: Int64) throws -> Int {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (?, ?, ?)")
        let position = nextPosition
        var bind = RawBindings(statement)
        bind.add(datasetID)
        bind.add(Int64(position))
        bind.add(fileID)
        try bind.step(in: db)
        nextPosition += 1
        return position
    }

    func insertInstance(_ instance: NewInstance) throws -> Int64 {
        if instance.fileID < firstNewFile { touchedFiles.insert(instance.fileID) }
        instancesInserted += 1
        if !droppedIndexes, instancesInserted > max(instancesBefore, Self.smallestBulkLoad) { try bulkLoad() }
        return try SQLiteStore.insertInstance(db, instance, at: time, validFrom: clock)
    }

    /// Drops the instance indexes until `createDroppedIndexes`, inside the import's
    /// transaction: readers never see the table without them.
    private func bulkLoad() throws {
        for (name, _) in Migrations.instanceIndexes { try db.execute(sql: "DROP INDEX \(name)") }
        droppedIndexes = true
    }

    func createDroppedIndexes() throws {
        guard droppedIndexes else { return }
        try SQLiteStore.createIndexes(Migrations.instanceIndexes.map(\.value), db)
    }

    func storeMedia(at path: String) throws -> StoredMedia {
        try media.put(fileAt: path)
    }

    func storedMedia(sha256: String) throws -> StoredMedia? {
        try media.describe(sha256: sha256)
    }
}

/// Binds values to a GRDB statement's SQLite handle in parameter order.
struct RawBindings {
    let handle: OpaquePointer
    var index: Int32 = 1

    init(_ statement: Statement) {
        handle = statement.sqliteStatement
        // A statement must be reset before it takes new bindings (sqlite3_bind_* docs).
        sqlite3_reset(handle)
    }

    /// Runs the bound insert; throws GRDB's error type, with SQLite's message.
    func step(in db: GRDB.Database) throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: message,
                sql: sqlite3_sql(handle).map { String(cString: $0) })
        }
    }

    // SQLITE_TRANSIENT: SQLite copies the text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    mutating func add(_ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        index += 1
    }

    mutating func add(_ value: Double?) {
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
        index += 1
    }

    mutating func add(_ value: String?) {
        if var value {
            // An empty buffer may have no address, which SQLite would bind as NULL.
            guard !value.isEmpty else {
                sqlite3_bind_text(handle, index, "", 0, Self.transient)
                index += 1
                return
            }
            value.withUTF8 { text in
                _ = text.withMemoryRebound(to: CChar.self) {
                    sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), Self.transient)
                }
            }
        } else {
            sqlite3_bind_null(handle, index)
        }
        index += 1
    }
}
