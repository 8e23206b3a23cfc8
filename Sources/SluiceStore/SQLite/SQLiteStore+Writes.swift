import GRDB
import SluiceModel

extension SQLiteStore {
    public func performImport<T: Sendable>(
        projectID: String, datasetName: String, _ body: @escaping @Sendable (any ImportWriter) throws -> T
    ) async throws -> T {
        let media = self.media
        return try await pool.write { db in
            let dataset = try Self.ensureDataset(db, projectID: projectID, name: datasetName)
            let writer = try SQLiteImportWriter(db: db, projectID: projectID, dataset: dataset, media: media)
            let result = try body(writer)
            try db.execute(
                sql: "UPDATE datasets SET file_count = ?, version = version + 1 WHERE id = ?",
                arguments: [writer.nextPosition, dataset.id])
            return result
        }
    }

    public func addInstance(_ instance: Instance) async throws -> Instance {
        try await pool.write { db in
            guard let projectID = try String.fetchOne(
                db, sql: "SELECT project_id FROM files WHERE id = ?", arguments: [instance.fileID])
            else { throw StoreError.fileNotFound(instance.fileID) }
            if let labelID = instance.labelID {
                let owner = try String.fetchOne(db, sql: "SELECT project_id FROM labels WHERE id = ?", arguments: [labelID])
                guard owner == projectID else { throw StoreError.invalid("label \(labelID) is not in project \(projectID)") }
            }
            let row = NewInstance(
                fileID: instance.fileID, labelID: instance.labelID, kind: instance.kind, bbox: instance.bbox,
                geometry: instance.geometry, area: instance.area, isCrowd: instance.isCrowd, score: instance.score,
                frame: instance.frame, track: instance.track, attributes: instance.attributes,
                metadata: instance.metadata, creator: instance.creator)
            let id = try Self.insertInstance(db, row, at: Timestamp.now())
            try Self.advanceVersions(db, ofDatasetsHolding: instance.fileID)
            let stored = try Row.fetchOne(
                db,
                sql: "SELECT \(Self.instanceColumns) FROM instances i LEFT JOIN labels l ON l.id = i.label_id WHERE i.id = ?",
                arguments: [id])!
            return try Self.storedInstance(stored).decoded()
        }
    }

    public func deleteInstance(id: Int64) async throws {
        try await pool.write { db in
            guard let fileID = try Int64.fetchOne(
                db, sql: "SELECT file_id FROM instances WHERE id = ? AND deleted = 0", arguments: [id])
            else { throw StoreError.instanceNotFound(id) }
            try db.execute(
                sql: "UPDATE instances SET deleted = 1, updated_at = ? WHERE id = ?",
                arguments: [Timestamp.now().milliseconds, id])
            try Self.advanceVersions(db, ofDatasetsHolding: fileID)
        }
    }

    static func advanceVersions(_ db: GRDB.Database, ofDatasetsHolding fileID: Int64) throws {
        try db.execute(
            sql: "UPDATE datasets SET version = version + 1 WHERE id IN (SELECT dataset_id FROM dataset_files WHERE file_id = ?)",
            arguments: [fileID])
    }

    static let insertInstanceSQL = """
        INSERT INTO instances (file_id, label_id, kind, x_min, y_min, x_max, y_max, area, iscrowd, score, frame,
            track, geometry, attributes, metadata, creator, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    static func insertInstance(_ db: GRDB.Database, _ instance: NewInstance, at time: Timestamp) throws -> Int64 {
        guard instance.geometry.hasPrimaryPart(for: instance.kind) else {
            throw StoreError.invalid("a \(instance.kind.rawValue) instance needs its \(instance.kind.rawValue) geometry")
        }
        let bbox = instance.bbox ?? instance.geometry.bounds(for: instance.kind)
        let statement = try db.cachedStatement(sql: insertInstanceSQL)
        let geometry = JSONColumn.encodeGeometry(instance.geometry)
        statement.setUncheckedArguments([
            instance.fileID, instance.labelID, instance.kind.rawValue, bbox?.xMin, bbox?.yMin, bbox?.xMax, bbox?.yMax,
            instance.area, instance.isCrowd, instance.score, instance.frame, instance.track, geometry,
            JSONColumn.encodeObject(instance.attributes), JSONColumn.encodeObject(instance.metadata),
            instance.creator, time.milliseconds, time.milliseconds,
        ])
        try statement.execute()
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

    init(db: GRDB.Database, projectID: String, dataset: Dataset, media: MediaStore) throws {
        self.db = db
        self.projectID = projectID
        self.datasetID = dataset.id
        self.media = media
        self.nextPosition = dataset.count
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
                INSERT INTO labels (project_id, name, color, supercategory, keypoint_names, skeleton)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                projectID, label.name, label.color ?? Label.defaultColor(for: label.name), label.supercategory,
                try label.keypointNames.map(JSONColumn.encode), try label.skeleton.map(JSONColumn.encode),
            ])
        return db.lastInsertedRowID
    }

    func updateLabel(id: Int64, with label: NewLabel) throws {
        try db.execute(
            sql: """
                UPDATE labels SET name = ?, color = coalesce(?, color), supercategory = coalesce(?, supercategory),
                    keypoint_names = coalesce(?, keypoint_names), skeleton = coalesce(?, skeleton)
                WHERE id = ? AND project_id = ?
                """,
            arguments: [
                label.name, label.color, label.supercategory, try label.keypointNames.map(JSONColumn.encode),
                try label.skeleton.map(JSONColumn.encode), id, projectID,
            ])
    }

    func mergeLabel(_ source: Int64, into target: Int64) throws {
        guard source != target else { return }
        // Through UPDATE, so the label-count trigger moves the counts too.
        try db.execute(sql: "UPDATE instances SET label_id = ? WHERE label_id = ?", arguments: [target, source])
        try db.execute(sql: "DELETE FROM labels WHERE id = ? AND project_id = ?", arguments: [source, projectID])
    }

    func insertFile(_ file: NewFile) throws -> Int64 {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO files (project_id, type, name, sha256, mime_type, byte_size, width, height, frame_count,
                frame_rate, metadata, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        statement.setUncheckedArguments(try fileArguments(file) + [time.milliseconds, time.milliseconds])
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
        statement.setUncheckedArguments([datasetID, position, fileID])
        try statement.execute()
        nextPosition += 1
        return position
    }

    func insertInstance(_ instance: NewInstance) throws -> Int64 {
        try SQLiteStore.insertInstance(db, instance, at: time)
    }

    func storeMedia(at path: String) throws -> StoredMedia {
        try media.put(fileAt: path)
    }
}
