import GRDB
import SluiceModel

extension SQLiteStore {
    static let fileColumns = """
        f.id, f.project_id, f.type, f.name, f.sha256, f.mime_type, f.byte_size, f.width, f.height, \
        f.frame_count, f.frame_rate, f.metadata, f.status, f.created_at, f.updated_at, f.revision
        """
    static let fileColumnCount = 16

    static let instanceColumns = """
        i.id, i.file_id, i.label_id, l.name, i.kind, i.x_min, i.y_min, i.x_max, i.y_max, i.area, i.iscrowd, \
        i.score, i.frame, i.track, i.geometry, i.attributes, i.metadata, i.creator, i.created_at, i.updated_at, i.deleted
        """

    public func storedItems(datasetID: Int64, range: Range<Int>) async throws -> [StoredItem] {
        try await storedItems(datasetID: datasetID, range: range, version: nil)
    }

    public func storedItems(datasetID: Int64, positions: [Int]) async throws -> [StoredItem] {
        try await storedItems(datasetID: datasetID, positions: positions, version: nil)
    }

    public func storedItems(datasetID: Int64, range: Range<Int>, at version: VersionPoint) async throws -> [StoredItem] {
        try await storedItems(datasetID: datasetID, range: range, version: version)
    }

    public func storedItems(datasetID: Int64, positions: [Int], at version: VersionPoint) async throws -> [StoredItem] {
        try await storedItems(datasetID: datasetID, positions: positions, version: version)
    }

    private func storedItems(datasetID: Int64, range: Range<Int>, version: VersionPoint?) async throws -> [StoredItem] {
        // A version's positions are those below its count: positions never move, only grow.
        let range = range.clamped(to: 0..<(version?.count ?? .max))
        guard !range.isEmpty, range.lowerBound >= 0 else { return [] }
        return try await storedItems(
            datasetID: datasetID, positionCondition: "df.position >= ? AND df.position < ?",
            arguments: [range.lowerBound, range.upperBound], capacity: range.count, version: version)
    }

    private func storedItems(datasetID: Int64, positions: [Int], version: VersionPoint?) async throws -> [StoredItem] {
        let positions = version.map { v in positions.filter { $0 < v.count } } ?? positions
        guard !positions.isEmpty else { return [] }
        // One JSON array parameter instead of a variable-length IN list: one cached statement.
        let list = "[" + positions.map(String.init).joined(separator: ",") + "]"
        return try await storedItems(
            datasetID: datasetID, positionCondition: "df.position IN (SELECT value FROM json_each(?))",
            arguments: [list], capacity: positions.count, version: version)
    }

    /// The file columns at a version: a file's revision then was the first one replaced after it.
    static let fileColumnsAtVersion = fileColumns.replacingOccurrences(
        of: "f.revision",
        with: """
            coalesce((SELECT r.revision FROM file_revisions r WHERE r.file_id = f.id AND r.valid_to > :clock \
            ORDER BY r.valid_to LIMIT 1), f.revision)
            """)

    /// The instance columns at a version: the label's name then, and live (a version shows
    /// only the instances alive at it).
    static let instanceColumnsAtVersion = instanceColumns
        .replacingOccurrences(
            of: "l.name",
            with: """
                coalesce((SELECT h.name FROM label_names h WHERE h.label_id = i.label_id AND h.valid_to > :clock \
                ORDER BY h.valid_to LIMIT 1), l.name)
                """)
        .replacingOccurrences(of: "i.deleted", with: "0")

    private func storedItems(
        datasetID: Int64, positionCondition: String, arguments: StatementArguments, capacity: Int,
        version: VersionPoint?
    ) async throws -> [StoredItem] {
        guard let version else {
            return try await storedItems(
                datasetID: datasetID, positionCondition: positionCondition, arguments: arguments, capacity: capacity,
                fileColumns: Self.fileColumns, instanceColumns: Self.instanceColumns, alive: "i.deleted = 0", clock: nil)
        }
        // The clock is bound by name, so a pinned read has one SQL text whatever its version.
        return try await storedItems(
            datasetID: datasetID, positionCondition: positionCondition,
            arguments: arguments + ["clock": version.clock], capacity: capacity,
            fileColumns: Self.fileColumnsAtVersion, instanceColumns: Self.instanceColumnsAtVersion,
            alive: "i.valid_from <= :clock AND (i.valid_to IS NULL OR i.valid_to > :clock)", clock: version.clock)
    }

    private func storedItems(
        datasetID: Int64, positionCondition: String, arguments: StatementArguments, capacity: Int,
        fileColumns: String, instanceColumns: String, alive: String, clock: Int64?
    ) async throws -> [StoredItem] {
        try await pool.read { db in
            // Two range scans over primary keys: the files at the positions, then their instances.
            // A stream reads a batch per query: compiling the statements each time (GRDB's
            // authorizer walks every column) cost as much as running them, so they are kept.
            var items = ItemsByFile(capacity: capacity)
            let files = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                    SELECT df.position, df.removed_at, \(fileColumns) FROM dataset_files df JOIN files f ON f.id = df.file_id
                    WHERE df.dataset_id = ? AND \(positionCondition) ORDER BY df.position
                    """),
                arguments: [datasetID] + arguments)
            while let row = try files.next() {
                let file = try Self.storedFile(row, offset: 2)
                // A removed position still reads as the file it held, marked: each reader
                // decides what a removed position is (docs/writes.md). At a version, only a
                // removal at or before it counts.
                let removedAt: Int64? = row[1]
                let isRemoved = removedAt.map { at in clock.map { at <= $0 } ?? true } ?? false
                items.append(StoredItem(position: row[0], file: file, instances: [], isRemoved: isRemoved))
            }
            guard !items.isEmpty else { return [] }
            let instances = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                    SELECT \(instanceColumns) FROM dataset_files df
                    JOIN instances i ON i.file_id = df.file_id
                    LEFT JOIN labels l ON l.id = i.label_id
                    WHERE df.dataset_id = ? AND \(positionCondition) AND \(alive)
                    ORDER BY df.position, i.id
                    """),
                arguments: [datasetID] + arguments)
            while let row = try instances.next() {
                // Once per position of the file, each time in id order: the repeats are skipped.
                items.add(try Self.storedInstance(row))
            }
            return items.items
        }
    }

    static func storedFile(_ row: Row, offset o: Int) throws -> StoredFile {
        guard let type = FileType(rawValue: row[o + 2]) else {
            throw StoreError.invalid("file \(row[o] as Int64) has unknown type \(row[o + 2] as String)")
        }
        return StoredFile(
            id: row[o], projectID: row[o + 1], type: type, name: row[o + 3],
            media: Media(
                sha256: row[o + 4], mimeType: row[o + 5], byteSize: row[o + 6], width: row[o + 7],
                height: row[o + 8], frameCount: row[o + 9], frameRate: row[o + 10]),
            metadataJSON: row[o + 11], status: AnnotationStatus(rawValue: row[o + 12]) ?? .pending,
            createdAt: Timestamp(milliseconds: row[o + 13]), updatedAt: Timestamp(milliseconds: row[o + 14]),
            revision: row[o + 15])
    }

    static func storedInstance(_ row: Row) throws -> StoredInstance {
        guard let kind = InstanceKind(rawValue: row[4]) else {
            throw StoreError.invalid("instance \(row[0] as Int64) has unknown kind \(row[4] as String)")
        }
        let xMin: Double? = row[5]
        let bbox: BoundingBox? = xMin.map { BoundingBox(xMin: $0, yMin: row[6], xMax: row[7], yMax: row[8]) }
        return StoredInstance(
            id: row[0], fileID: row[1], labelID: row[2], label: row[3], kind: kind, bbox: bbox,
            geometryJSON: row[14], area: row[9], isCrowd: row[10], score: row[11], frame: row[12], track: row[13],
            attributesJSON: row[15], metadataJSON: row[16], creator: row[17],
            createdAt: Timestamp(milliseconds: row[18]), updatedAt: Timestamp(milliseconds: row[19]),
            isDeleted: row[20])
    }
}
