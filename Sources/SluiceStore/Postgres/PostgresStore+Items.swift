import PostgresNIO
import SluiceModel

extension PostgresStore {
    static let fileColumns = SQLiteStore.fileColumns
    static let instanceColumns = SQLiteStore.instanceColumns

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
        var binds = PostgresBindings()
        binds.append(datasetID)
        binds.append(Int64(range.lowerBound))
        binds.append(Int64(range.upperBound))
        return try await storedItems(
            datasetID: datasetID, positionCondition: "df.position >= $2 AND df.position < $3", binds: binds,
            capacity: range.count, version: version)
    }

    private func storedItems(datasetID: Int64, positions: [Int], version: VersionPoint?) async throws -> [StoredItem] {
        let positions = version.map { v in positions.filter { $0 < v.count } } ?? positions
        guard !positions.isEmpty else { return [] }
        // One array parameter instead of a variable-length IN list: one statement text.
        var binds = PostgresBindings()
        binds.append(datasetID)
        binds.append(positions.map { Int64($0) })
        return try await storedItems(
            datasetID: datasetID, positionCondition: "df.position = ANY($2)", binds: binds, capacity: positions.count,
            version: version)
    }

    /// The file and instance columns at a version (as SQLiteStore's): a file's revision and a
    /// label's name then, and only the instances alive then.
    static func columns(at clock: Int64?) -> (file: String, instance: String, alive: String) {
        guard let clock else { return (fileColumns, instanceColumns, "i.deleted = 0") }
        let file = fileColumns.replacingOccurrences(
            of: "f.revision",
            with: """
                coalesce((SELECT r.revision FROM file_revisions r WHERE r.file_id = f.id AND r.valid_to > \(clock) \
                ORDER BY r.valid_to LIMIT 1), f.revision)
                """)
        let instance = instanceColumns
            .replacingOccurrences(
                of: "l.name",
                with: """
                    coalesce((SELECT h.name FROM label_names h WHERE h.label_id = i.label_id AND h.valid_to > \(clock) \
                    ORDER BY h.valid_to LIMIT 1), l.name)
                    """)
            .replacingOccurrences(of: "i.deleted", with: "0")
        return (file, instance, "i.valid_from <= \(clock) AND (i.valid_to IS NULL OR i.valid_to > \(clock))")
    }

    private func storedItems(
        datasetID: Int64, positionCondition: String, binds: PostgresBindings, capacity: Int,
        version: VersionPoint?
    ) async throws -> [StoredItem] {
        let clock = version?.clock
        let columns = Self.columns(at: clock)
        let fileQuery = PostgresQuery(
            unsafeSQL: """
                SELECT df.position, df.removed_at, \(columns.file) FROM dataset_files df JOIN files f ON f.id = df.file_id
                WHERE df.dataset_id = $1 AND \(positionCondition) ORDER BY df.position
                """,
            binds: binds)
        let instanceQuery = PostgresQuery(
            unsafeSQL: """
                SELECT \(columns.instance) FROM dataset_files df
                JOIN instances i ON i.file_id = df.file_id
                LEFT JOIN labels l ON l.id = i.label_id
                WHERE df.dataset_id = $1 AND \(positionCondition) AND \(columns.alive)
                ORDER BY df.position, i.id
                """,
            binds: binds)
        return try await read { db in
            var items: [StoredItem] = []
            items.reserveCapacity(capacity)
            var indexByFile: [Int64: Int] = [:]
            for row in try await db.rows(fileQuery) {
                let file = try Self.storedFile(row, offset: 2)
                // A removed position still reads as the file it held, marked (docs/writes.md);
                // at a version, only a removal at or before it counts.
                let removedAt = try row.at(1, as: Int64?.self)
                let isRemoved = removedAt.map { at in clock.map { at <= $0 } ?? true } ?? false
                indexByFile[file.id] = items.count
                items.append(StoredItem(position: try row.at(0), file: file, instances: [], isRemoved: isRemoved))
            }
            guard !items.isEmpty else { return [] }
            for row in try await db.rows(instanceQuery) {
                let instance = try Self.storedInstance(row)
                if let index = indexByFile[instance.fileID] { items[index].instances.append(instance) }
            }
            return items
        }
    }

    static func storedFile(_ row: PostgresRandomAccessRow, offset o: Int) throws -> StoredFile {
        let typeName = try row.at(o + 2, as: String.self)
        guard let type = FileType(rawValue: typeName) else {
            throw StoreError.invalid("file \(try row.at(o, as: Int64.self)) has unknown type \(typeName)")
        }
        return StoredFile(
            id: try row.at(o), projectID: try row.at(o + 1), type: type, name: try row.at(o + 3),
            media: Media(
                sha256: try row.at(o + 4), mimeType: try row.at(o + 5), byteSize: try row.at(o + 6),
                width: try row.at(o + 7), height: try row.at(o + 8), frameCount: try row.at(o + 9),
                frameRate: try row.at(o + 10)),
            metadataJSON: try row.at(o + 11), status: AnnotationStatus(rawValue: try row.at(o + 12)) ?? .pending,
            createdAt: Timestamp(milliseconds: try row.at(o + 13)), updatedAt: Timestamp(milliseconds: try row.at(o + 14)),
            revision: try row.at(o + 15))
    }

    static func storedInstance(_ row: PostgresRandomAccessRow) throws -> StoredInstance {
        let kindName = try row.at(4, as: String.self)
        guard let kind = InstanceKind(rawValue: kindName) else {
            throw StoreError.invalid("instance \(try row.at(0, as: Int64.self)) has unknown kind \(kindName)")
        }
        let bbox: BoundingBox? = try row.at(5, as: Double?.self).map {
            BoundingBox(xMin: $0, yMin: try row.at(6), xMax: try row.at(7), yMax: try row.at(8))
        }
        return StoredInstance(
            id: try row.at(0), fileID: try row.at(1), labelID: try row.at(2), label: try row.at(3), kind: kind, bbox: bbox,
            geometryJSON: try row.at(14), area: try row.at(9), isCrowd: try row.at(10, as: Int.self) != 0,
            score: try row.at(11), frame: try row.at(12), track: try row.at(13), attributesJSON: try row.at(15),
            metadataJSON: try row.at(16), creator: try row.at(17), createdAt: Timestamp(milliseconds: try row.at(18)),
            updatedAt: Timestamp(milliseconds: try row.at(19)), isDeleted: try row.at(20, as: Int.self) != 0)
    }
}
