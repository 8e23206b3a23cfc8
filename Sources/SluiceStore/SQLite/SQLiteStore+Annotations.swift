import GRDB
import SluiceModel

/// Writes through the network: files appended with their instances, and edits of a file's
/// instances (docs/writes.md). Each is one transaction that validates everything before its
/// first row, advances the store clock once, and records its changes.
extension SQLiteStore {
    public func appendFiles(datasetID: Int64, _ drafts: [FileDraft], createLabels: Bool) async throws -> [AppendedFile] {
        // Media are read (a stat and the first bytes) before the write lock is taken.
        let media = try self.media.describe(drafts)
        let textLengths = self.media.textLengths(of: drafts, described: media)
        let (appended, changed) = try await pool.write { db in
            guard let dataset = try Row.fetchOne(
                db.cachedStatement(sql: "\(Self.datasetColumns) WHERE id = ?"), arguments: [datasetID]
            ).map(Self.dataset) else { throw StoreError.datasetNotFound(String(datasetID)) }
            var labels = try LabelBook(db, projectID: dataset.projectID)
            var resolved: [[ResolvedDraft]] = []
            for (index, draft) in drafts.enumerated() {
                let stored = media[draft.sha256]!
                let size = stored.width.flatMap { w in stored.height.map { (width: w, height: $0) } }
                resolved.append(
                    try draft.instances.enumerated().map { j, instance in
                        try labels.resolve(
                            instance, at: "files[\(index)].instances[\(j)]", imageSize: size,
                            textLength: textLengths[draft.sha256], createLabels: createLabels)
                    })
            }
            guard !drafts.isEmpty else { return ([AppendedFile](), Set<Int64>()) }
            let seq = try Self.drawChangeSeq(db)
            let clock = try Self.advanceClock(db)
            let now = Timestamp.now()
            try labels.createMissing(db, clock: clock)
            var appended: [AppendedFile] = []
            for (index, draft) in drafts.enumerated() {
                let stored = media[draft.sha256]!
                try db.execute(
                    sql: """
                        INSERT INTO files (project_id, type, name, sha256, mime_type, byte_size, width, height, metadata,
                            status, created_at, updated_at, revision)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        dataset.projectID, (stored.fileType ?? .image).rawValue, draft.name, stored.sha256,
                        stored.mimeType, stored.byteSize, stored.width, stored.height,
                        JSONColumn.encodeObject(draft.metadata), draft.status.rawValue, now.milliseconds,
                        now.milliseconds, seq,
                    ])
                let fileID = db.lastInsertedRowID
                let position = dataset.count + index
                try db.execute(
                    sql: "INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (?, ?, ?)",
                    arguments: [dataset.id, position, fileID])
                for instance in resolved[index] {
                    _ = try Self.insertInstance(db, instance.row(fileID: fileID, labels: labels), at: now, validFrom: clock)
                }
                appended.append(AppendedFile(position: position, file: try Self.fetchFile(db, id: fileID)))
            }
            let end = dataset.count + drafts.count
            try db.execute(
                sql: "UPDATE datasets SET file_count = ?, version = version + 1 WHERE id = ?", arguments: [end, dataset.id])
            try Self.recordChange(db, seq: seq, datasetID: dataset.id, kind: .added, positions: dataset.count..<end, at: now)
            return (appended, [dataset.id])
        }
        changeNotifier.notify(datasetIDs: changed)
        return appended
    }

    public func editInstances(fileID: Int64, _ edit: InstanceEdit, expectedRevision: Int64?, createLabels: Bool)
        async throws -> AnnotatedFile
    {
        let (result, changed) = try await pool.write { db in
            guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT project_id, revision, width, height, type, sha256 FROM files WHERE id = ?"),
                arguments: [fileID])
            else { throw StoreError.fileNotFound(fileID) }
            let projectID: String = row[0], revision: Int64 = row[1]
            if let expectedRevision, expectedRevision != revision {
                throw StoreError.revisionMismatch(fileID: fileID, current: revision)
            }
            let width: Int? = row[2], height: Int? = row[3]
            let size = width.flatMap { w in height.map { (width: w, height: $0) } }
            let type: String = row[4], sha256: String? = row[5]
            let textLength =
                edit.hasSpans && type == FileType.text.rawValue ? sha256.flatMap(self.media.textLength(sha256:)) : nil
            var labels = try LabelBook(db, projectID: projectID)
            // Everything is checked before the first row is written.
            var inserts: [ResolvedDraft] = []
            var closes: [Int64] = []
            switch edit {
            case .add(let drafts), .replaceAll(let drafts):
                inserts = try drafts.enumerated().map { index, draft in
                    try labels.resolve(
                        draft, at: "instances[\(index)]", imageSize: size, textLength: textLength, createLabels: createLabels)
                }
                if case .replaceAll = edit {
                    closes = try Int64.fetchAll(
                        db.cachedStatement(sql: "SELECT id FROM instances WHERE file_id = ? AND deleted = 0 ORDER BY id"),
                        arguments: [fileID])
                }
            case .update(let id, let draft):
                try Self.requireLiveInstance(db, id: id, fileID: fileID)
                inserts = [
                    try labels.resolve(draft, at: "instance", imageSize: size, textLength: textLength, createLabels: createLabels)
                ]
                closes = [id]
            case .delete(let ids):
                for id in ids { try Self.requireLiveInstance(db, id: id, fileID: fileID) }
                closes = Array(Set(ids)).sorted()
            }
            let now = Timestamp.now()
            // A closed row stays as it was (not even updated_at moves): versions before this
            // write read it byte for byte (docs/versions.md).
            let clock = try Self.advanceClock(db)
            try labels.createMissing(db, clock: clock)
            for id in closes {
                try db.execute(sql: "UPDATE instances SET deleted = 1, valid_to = ? WHERE id = ?", arguments: [clock, id])
            }
            for draft in inserts {
                _ = try Self.insertInstance(db, draft.row(fileID: fileID, labels: labels), at: now, validFrom: clock)
            }
            try Self.advanceVersions(db, ofDatasetsHolding: fileID)
            let changed = try Self.recordChanges(db, ofFiles: [fileID], at: now)
            return (try Self.fetchAnnotatedFile(db, id: fileID)!, changed)
        }
        changeNotifier.notify(datasetIDs: changed)
        return result
    }

    public func annotatedFile(id: Int64) async throws -> AnnotatedFile? {
        try await pool.read { db in try Self.fetchAnnotatedFile(db, id: id) }
    }

    static func fetchFile(_ db: GRDB.Database, id: Int64) throws -> File {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(fileColumns) FROM files f WHERE f.id = ?", arguments: [id])
        else { throw StoreError.fileNotFound(id) }
        return try storedFile(row, offset: 0).decoded()
    }

    static func fetchAnnotatedFile(_ db: GRDB.Database, id: Int64) throws -> AnnotatedFile? {
        // Cached statements: every save and annotation read runs these (compiling one costs
        // more than running it here).
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(fileColumns) FROM files f WHERE f.id = ?"), arguments: [id])
        else { return nil }
        let instances = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(instanceColumns) FROM instances i LEFT JOIN labels l ON l.id = i.label_id
                    WHERE i.file_id = ? AND i.deleted = 0 ORDER BY i.id
                    """),
            arguments: [id]
        ).map { try storedInstance($0).decoded() }
        return AnnotatedFile(file: try storedFile(row, offset: 0).decoded(), instances: instances)
    }

    private static func requireLiveInstance(_ db: GRDB.Database, id: Int64, fileID: Int64) throws {
        guard try Int64.fetchOne(
            db, sql: "SELECT file_id FROM instances WHERE id = ? AND deleted = 0", arguments: [id]) == fileID
        else { throw StoreError.instanceNotFound(id) }
    }

    /// File names are shown and exported, never used as server paths; they are still held
    /// to what an export can write as a relative path.
    static func checkName(_ name: String, at path: String) throws {
        guard !name.isEmpty, name.utf8.count <= 1024 else {
            throw StoreError.invalidField(FieldError(path: path, message: "must have 1 to 1024 bytes"))
        }
        guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw StoreError.invalidField(FieldError(path: path, message: "must not contain control characters"))
        }
    }
}

/// An instance draft whose label is resolved: an id, or a name the write creates.
struct ResolvedDraft {
    var draft: InstanceDraft
    var labelID: Int64?
    var newLabelName: String?

    func row(fileID: Int64, labels: LabelBook) -> NewInstance {
        NewInstance(
            fileID: fileID, labelID: labelID ?? newLabelName.flatMap { labels.byName[$0]?.id }, kind: draft.kind,
            bbox: draft.bbox, geometry: draft.geometry, area: draft.area, isCrowd: draft.isCrowd, score: draft.score,
            frame: draft.frame, track: draft.track, attributes: draft.attributes, metadata: draft.metadata,
            creator: draft.creator)
    }
}

/// A project's labels within one write transaction: the names and keypoints that drafts are
/// checked against, and the labels the write must create.
struct LabelBook {
    struct Entry {
        var id: Int64
        var name: String
        var keypointNames: [String]?
    }

    let projectID: String
    private(set) var byName: [String: Entry] = [:]
    private var byID: [Int64: Entry] = [:]
    private var missing: [String] = []

    /// The book of a project's live labels, read by either engine.
    init(projectID: String, labels: [Entry]) {
        self.projectID = projectID
        for entry in labels { add(entry) }
    }

    init(_ db: GRDB.Database, projectID: String) throws {
        let labels = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT id, name, keypoint_names FROM labels WHERE project_id = ? AND valid_to IS NULL"),
            arguments: [projectID]
        ).map { row in
            Entry(
                id: row[0], name: row[1],
                keypointNames: try (row[2] as String?).map { try JSONColumn.decode([String].self, from: $0) })
        }
        self.init(projectID: projectID, labels: labels)
    }

    /// A label the write created.
    mutating func add(_ entry: Entry) {
        byName[entry.name] = entry
        byID[entry.id] = entry
    }

    /// The names drafts gave that the project lacks, in the order first named; the caller
    /// creates them and `add`s each.
    mutating func takeMissing() -> [String] {
        defer { missing = [] }
        return missing
    }

    /// Checks the draft and finds its label; a label named but missing is noted for
    /// `createMissing` when `createLabels`, else refused.
    mutating func resolve(
        _ draft: InstanceDraft, at path: String, imageSize: (width: Int, height: Int)?, textLength: Int? = nil,
        createLabels: Bool
    ) throws -> ResolvedDraft {
        var entry: Entry?
        if let id = draft.labelID {
            guard let found = byID[id] else {
                throw StoreError.invalidField(FieldError(path: "\(path).label_id", message: "no label \(id) in project \(projectID)"))
            }
            if let name = draft.label, name != found.name {
                throw StoreError.invalidField(
                    FieldError(path: "\(path).label", message: "label \(id) is named '\(found.name)', not '\(name)'"))
            }
            entry = found
        } else if let name = draft.label {
            entry = byName[name]
            if entry == nil {
                guard createLabels else {
                    throw StoreError.invalidField(
                        FieldError(
                            path: "\(path).label",
                            message: "project \(projectID) has no label '\(name)' (ask for create_labels to create it)"))
                }
                try SQLiteStore.checkLabelName(name, field: "\(path).label")
                if !missing.contains(name) { missing.append(name) }
            }
        } else {
            throw StoreError.invalidField(FieldError(path: "\(path).label", message: "an instance needs a label (name or label_id)"))
        }
        do {
            try draft.validate(at: path, keypointNames: entry?.keypointNames, imageSize: imageSize, textLength: textLength)
        } catch let error as FieldError {
            throw StoreError.invalidField(error)
        }
        return ResolvedDraft(draft: draft, labelID: entry?.id, newLabelName: entry == nil ? draft.label : nil)
    }

    /// Creates the labels drafts named and the project lacked, in the order first named.
    mutating func createMissing(_ db: GRDB.Database, clock: Int64) throws {
        for name in takeMissing() {
            try db.execute(
                sql: "INSERT INTO labels (project_id, name, color, valid_from) VALUES (?, ?, ?, ?)",
                arguments: [projectID, name, Label.defaultColor(for: name), clock])
            add(Entry(id: db.lastInsertedRowID, name: name, keypointNames: nil))
        }
    }
}
