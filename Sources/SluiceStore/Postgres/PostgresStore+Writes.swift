import PostgresNIO
import SluiceModel

/// Writes through the network (docs/writes.md), as SQLiteStore+Annotations and +Placements
/// do them: each one transaction that checks everything before its first row, advances the
/// store clock once and records its changes.
extension PostgresStore {
    static func labelBook(_ db: PostgresSession, projectID: String) async throws -> LabelBook {
        let labels = try await db.rows(
            "SELECT id, name, keypoint_names FROM labels WHERE project_id = \(projectID) AND valid_to IS NULL"
        ).map { row in
            LabelBook.Entry(
                id: try row.at(0), name: try row.at(1),
                keypointNames: try row.at(2, as: String?.self).map { try JSONColumn.decode([String].self, from: $0) })
        }
        return LabelBook(projectID: projectID, labels: labels)
    }

    static func createMissing(_ db: PostgresSession, _ labels: inout LabelBook, clock: Int64) async throws {
        for name in labels.takeMissing() {
            let id = try await db.value(
                """
                INSERT INTO labels (project_id, name, color, valid_from)
                VALUES (\(labels.projectID), \(name), \(Label.defaultColor(for: name)), \(clock)) RETURNING id
                """, as: Int64.self)!
            labels.add(LabelBook.Entry(id: id, name: name, keypointNames: nil))
        }
    }

    static func insertInstance(_ db: PostgresSession, _ instance: NewInstance, at time: Timestamp, validFrom clock: Int64)
        async throws -> Int64
    {
        guard instance.geometry.hasPrimaryPart(for: instance.kind) else {
            throw StoreError.invalid("a \(instance.kind.rawValue) instance needs its \(instance.kind.rawValue) geometry")
        }
        let bbox = instance.bbox ?? instance.geometry.bounds(for: instance.kind)
        return try await db.value(
            """
            INSERT INTO instances (file_id, label_id, kind, x_min, y_min, x_max, y_max, area, iscrowd, score, frame,
                track, geometry, attributes, metadata, creator, created_at, updated_at, valid_from)
            VALUES (\(instance.fileID), \(instance.labelID), \(instance.kind.rawValue), \(bbox?.xMin), \(bbox?.yMin),
                \(bbox?.xMax), \(bbox?.yMax), \(instance.area), \(instance.isCrowd ? 1 : 0), \(instance.score),
                \(instance.frame.map(Int64.init)), \(instance.track.map(Int64.init)),
                \(JSONColumn.encodeGeometry(instance.geometry)), \(JSONColumn.encodeObject(instance.attributes)),
                \(JSONColumn.encodeObject(instance.metadata)), \(instance.creator), \(time.milliseconds),
                \(time.milliseconds), \(clock))
            RETURNING id
            """, as: Int64.self)!
    }

    static func fetchFile(_ db: PostgresSession, id: Int64) async throws -> File {
        guard let file = try await db.decodedRow("SELECT \(unescaped: fileColumns) FROM files f WHERE f.id = \(id)", storedFile)
        else { throw StoreError.fileNotFound(id) }
        return try file.decoded()
    }

    static func fetchAnnotatedFile(_ db: PostgresSession, id: Int64) async throws -> AnnotatedFile? {
        guard let file = try await db.decodedRow("SELECT \(unescaped: fileColumns) FROM files f WHERE f.id = \(id)", storedFile)
        else { return nil }
        let instances = try await db.decodedRows(
            """
            SELECT \(unescaped: instanceColumns) FROM instances i LEFT JOIN labels l ON l.id = i.label_id
            WHERE i.file_id = \(id) AND i.deleted = 0 ORDER BY i.id
            """, storedInstance
        ).map { try $0.decoded() }
        return AnnotatedFile(file: try file.decoded(), instances: instances)
    }

    public func annotatedFile(id: Int64) async throws -> AnnotatedFile? {
        try await read { db in try await Self.fetchAnnotatedFile(db, id: id) }
    }

    public func appendFiles(datasetID: Int64, _ drafts: [FileDraft], createLabels: Bool) async throws -> [AppendedFile] {
        let media = try self.media.describe(drafts)
        let textLengths = self.media.textLengths(of: drafts, described: media)
        let (appended, changed) = try await write { db in
            guard let dataset = try await Self.fetchDataset(db, id: datasetID) else {
                throw StoreError.datasetNotFound(String(datasetID))
            }
            var labels = try await Self.labelBook(db, projectID: dataset.projectID)
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
            let seq = try await Self.drawChangeSeq(db)
            let clock = try await Self.advanceClock(db)
            let now = Timestamp.now()
            try await Self.createMissing(db, &labels, clock: clock)
            var appended: [AppendedFile] = []
            for (index, draft) in drafts.enumerated() {
                let stored = media[draft.sha256]!
                let fileID = try await db.value(
                    """
                    INSERT INTO files (project_id, type, name, sha256, mime_type, byte_size, width, height, metadata,
                        status, created_at, updated_at, revision)
                    VALUES (\(dataset.projectID), \((stored.fileType ?? .image).rawValue), \(draft.name), \(stored.sha256),
                        \(stored.mimeType), \(stored.byteSize), \(stored.width), \(stored.height),
                        \(JSONColumn.encodeObject(draft.metadata)), \(draft.status.rawValue), \(now.milliseconds),
                        \(now.milliseconds), \(seq))
                    RETURNING id
                    """, as: Int64.self)!
                let position = dataset.count + index
                try await db.execute(
                    "INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (\(dataset.id), \(Int64(position)), \(fileID))")
                for instance in resolved[index] {
                    _ = try await Self.insertInstance(db, instance.row(fileID: fileID, labels: labels), at: now, validFrom: clock)
                }
                appended.append(AppendedFile(position: position, file: try await Self.fetchFile(db, id: fileID)))
            }
            let end = dataset.count + drafts.count
            try await db.execute(
                "UPDATE datasets SET file_count = \(Int64(end)), version = version + 1 WHERE id = \(dataset.id)")
            try await Self.recordChange(
                db, seq: seq, datasetID: dataset.id, kind: .added, positions: dataset.count..<end, at: now)
            return (appended, Set([dataset.id]))
        }
        await notify(changed)
        return appended
    }

    public func editInstances(fileID: Int64, _ edit: InstanceEdit, expectedRevision: Int64?, createLabels: Bool)
        async throws -> AnnotatedFile
    {
        let (result, changed) = try await write { db in
            guard let row = try await db.row("SELECT project_id, revision, width, height, type, sha256 FROM files WHERE id = \(fileID)")
            else { throw StoreError.fileNotFound(fileID) }
            let projectID: String = try row.at(0), revision: Int64 = try row.at(1)
            if let expectedRevision, expectedRevision != revision {
                throw StoreError.revisionMismatch(fileID: fileID, current: revision)
            }
            let width = try row.at(2, as: Int?.self), height = try row.at(3, as: Int?.self)
            let size = width.flatMap { w in height.map { (width: w, height: $0) } }
            let type: String = try row.at(4), sha256 = try row.at(5, as: String?.self)
            let textLength =
                edit.hasSpans && type == FileType.text.rawValue ? sha256.flatMap(self.media.textLength(sha256:)) : nil
            var labels = try await Self.labelBook(db, projectID: projectID)
            var inserts: [ResolvedDraft] = []
            var closes: [Int64] = []
            switch edit {
            case .add(let drafts), .replaceAll(let drafts):
                inserts = try drafts.enumerated().map { index, draft in
                    try labels.resolve(
                        draft, at: "instances[\(index)]", imageSize: size, textLength: textLength, createLabels: createLabels)
                }
                if case .replaceAll = edit {
                    closes = try await db.values(
                        "SELECT id FROM instances WHERE file_id = \(fileID) AND deleted = 0 ORDER BY id", as: Int64.self)
                }
            case .update(let id, let draft):
                try await Self.requireLiveInstance(db, id: id, fileID: fileID)
                inserts = [
                    try labels.resolve(draft, at: "instance", imageSize: size, textLength: textLength, createLabels: createLabels)
                ]
                closes = [id]
            case .delete(let ids):
                for id in ids { try await Self.requireLiveInstance(db, id: id, fileID: fileID) }
                closes = Array(Set(ids)).sorted()
            }
            let now = Timestamp.now()
            let clock = try await Self.advanceClock(db)
            try await Self.createMissing(db, &labels, clock: clock)
            for id in closes {
                try await db.execute("UPDATE instances SET deleted = 1, valid_to = \(clock) WHERE id = \(id)")
            }
            for draft in inserts {
                _ = try await Self.insertInstance(db, draft.row(fileID: fileID, labels: labels), at: now, validFrom: clock)
            }
            try await Self.advanceVersions(db, ofDatasetsHolding: fileID)
            let changed = try await Self.recordChanges(db, ofFiles: [fileID], at: now)
            return (try await Self.fetchAnnotatedFile(db, id: fileID)!, changed)
        }
        await notify(changed)
        return result
    }

    private static func requireLiveInstance(_ db: PostgresSession, id: Int64, fileID: Int64) async throws {
        guard try await db.value("SELECT file_id FROM instances WHERE id = \(id) AND deleted = 0", as: Int64.self) == fileID
        else { throw StoreError.instanceNotFound(id) }
    }

    public func addInstance(_ instance: Instance) async throws -> Instance {
        let (added, changed) = try await write { db in
            guard let projectID = try await db.value(
                "SELECT project_id FROM files WHERE id = \(instance.fileID)", as: String.self)
            else { throw StoreError.fileNotFound(instance.fileID) }
            if let labelID = instance.labelID {
                let owner = try await db.value(
                    "SELECT project_id FROM labels WHERE id = \(labelID) AND valid_to IS NULL", as: String.self)
                guard owner == projectID else { throw StoreError.invalid("label \(labelID) is not in project \(projectID)") }
            }
            let row = NewInstance(
                fileID: instance.fileID, labelID: instance.labelID, kind: instance.kind, bbox: instance.bbox,
                geometry: instance.geometry, area: instance.area, isCrowd: instance.isCrowd, score: instance.score,
                frame: instance.frame, track: instance.track, attributes: instance.attributes,
                metadata: instance.metadata, creator: instance.creator)
            let now = Timestamp.now()
            let id = try await Self.insertInstance(db, row, at: now, validFrom: try await Self.advanceClock(db))
            try await Self.advanceVersions(db, ofDatasetsHolding: instance.fileID)
            let changed = try await Self.recordChanges(db, ofFiles: [instance.fileID], at: now)
            let stored = try await db.decodedRow(
                """
                SELECT \(unescaped: Self.instanceColumns) FROM instances i LEFT JOIN labels l ON l.id = i.label_id
                WHERE i.id = \(id)
                """, Self.storedInstance)!
            return (try stored.decoded(), changed)
        }
        await notify(changed)
        return added
    }

    public func deleteInstance(id: Int64) async throws {
        let changed = try await write { db in
            guard let fileID = try await db.value(
                "SELECT file_id FROM instances WHERE id = \(id) AND deleted = 0", as: Int64.self)
            else { throw StoreError.instanceNotFound(id) }
            let now = Timestamp.now()
            let clock = try await Self.advanceClock(db)
            try await db.execute("UPDATE instances SET deleted = 1, valid_to = \(clock) WHERE id = \(id)")
            try await Self.advanceVersions(db, ofDatasetsHolding: fileID)
            return try await Self.recordChanges(db, ofFiles: [fileID], at: now)
        }
        await notify(changed)
    }

    // MARK: Removing, copying and moving files (positions are append-only)

    public func removeFiles(datasetID: Int64, fileIDs: [Int64]) async throws -> Dataset {
        let (dataset, changed) = try await write { db in
            guard try await Self.fetchDataset(db, id: datasetID) != nil else {
                throw StoreError.datasetNotFound(String(datasetID))
            }
            let positions = try await Self.livePositions(db, datasetID: datasetID, fileIDs: fileIDs, field: "file_ids")
            guard !positions.isEmpty else { return (try await Self.fetchDataset(db, id: datasetID)!, Set<Int64>()) }
            let clock = try await Self.advanceClock(db)
            try await Self.close(db, datasetID: datasetID, positions: positions, at: clock, time: .now())
            return (try await Self.fetchDataset(db, id: datasetID)!, Set([datasetID]))
        }
        await notify(changed)
        return dataset
    }

    public func copyFiles(_ fileIDs: [Int64], into datasetID: Int64, movingFrom source: Int64?) async throws
        -> [AppendedFile]
    {
        let (appended, changed) = try await write { db in
            guard let target = try await Self.fetchDataset(db, id: datasetID) else {
                throw StoreError.datasetNotFound(String(datasetID))
            }
            if let source {
                guard let from = try await Self.fetchDataset(db, id: source), from.projectID == target.projectID else {
                    throw StoreError.invalidField(
                        FieldError(path: "from", message: "no dataset \(source) in project \(target.projectID)"))
                }
                guard source != datasetID else {
                    throw StoreError.invalidField(FieldError(path: "from", message: "a file moves to another dataset"))
                }
            }
            var seen: Set<Int64> = []
            for (index, fileID) in fileIDs.enumerated() {
                let field = "file_ids[\(index)]"
                guard seen.insert(fileID).inserted else {
                    throw StoreError.invalidField(FieldError(path: field, message: "file \(fileID) is named twice"))
                }
                guard try await db.value("SELECT project_id FROM files WHERE id = \(fileID)", as: String.self)
                    == target.projectID
                else {
                    throw StoreError.invalidField(
                        FieldError(path: field, message: "no file \(fileID) in project \(target.projectID)"))
                }
                if try await db.row(
                    """
                    SELECT 1 FROM dataset_files WHERE dataset_id = \(datasetID) AND file_id = \(fileID)
                    AND removed_at IS NULL
                    """) != nil
                {
                    throw StoreError.invalidField(
                        FieldError(path: field, message: "dataset \(target.name) holds file \(fileID) already"))
                }
            }
            var moved: [Int]?
            if let source {
                moved = try await Self.livePositions(db, datasetID: source, fileIDs: fileIDs, field: "file_ids")
            }
            guard !fileIDs.isEmpty else { return ([AppendedFile](), Set<Int64>()) }
            let clock = try await Self.advanceClock(db)
            let time = Timestamp.now()
            var appended: [AppendedFile] = []
            for (index, fileID) in fileIDs.enumerated() {
                let position = target.count + index
                try await db.execute(
                    "INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (\(datasetID), \(Int64(position)), \(fileID))")
                appended.append(AppendedFile(position: position, file: try await Self.fetchFile(db, id: fileID)))
            }
            let end = target.count + fileIDs.count
            try await db.execute("UPDATE datasets SET file_count = \(Int64(end)), version = version + 1 WHERE id = \(datasetID)")
            try await Self.recordChange(db, datasetID: datasetID, kind: .added, positions: target.count..<end, at: time)
            var changed: Set<Int64> = [datasetID]
            if let source, let moved {
                try await Self.close(db, datasetID: source, positions: moved, at: clock, time: time)
                changed.insert(source)
            }
            return (appended, changed)
        }
        await notify(changed)
        return appended
    }

    /// The live positions of `fileIDs` in the dataset, ascending; a file it does not hold is
    /// refused, naming its index in the request.
    static func livePositions(_ db: PostgresSession, datasetID: Int64, fileIDs: [Int64], field: String) async throws
        -> [Int]
    {
        var positions: Set<Int> = []
        for (index, fileID) in fileIDs.enumerated() {
            guard let position = try await db.value(
                "SELECT position FROM dataset_files WHERE dataset_id = \(datasetID) AND file_id = \(fileID) AND removed_at IS NULL",
                as: Int.self)
            else {
                throw StoreError.invalidField(
                    FieldError(path: "\(field)[\(index)]", message: "dataset \(datasetID) does not hold file \(fileID)"))
            }
            positions.insert(position)
        }
        return positions.sorted()
    }

    /// Closes the places at `positions` at `clock`, advances the dataset's version and records
    /// one `removed` change per run of adjacent positions.
    static func close(_ db: PostgresSession, datasetID: Int64, positions: [Int], at clock: Int64, time: Timestamp)
        async throws
    {
        try await db.execute(
            """
            UPDATE dataset_files SET removed_at = \(clock)
            WHERE dataset_id = \(datasetID) AND position = ANY(\(positions.map { Int64($0) })) AND removed_at IS NULL
            """)
        try await db.execute(
            """
            UPDATE datasets SET removed_count = removed_count + \(Int64(positions.count)), version = version + 1
            WHERE id = \(datasetID)
            """)
        for run in ChangeRuns.of(positions: positions) {
            try await recordChange(db, datasetID: datasetID, kind: .removed, positions: run, at: time)
        }
    }
}
