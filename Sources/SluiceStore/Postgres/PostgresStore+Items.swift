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
        return try await read { db in
            var items = ItemsByFile(capacity: capacity)
            for row in try await db.decodedRows(fileQuery, Self.storedPosition) {
                // A removed position still reads as the file it held, marked (docs/writes.md);
                // at a version, only a removal at or before it counts.
                let isRemoved = row.removedAt.map { at in clock.map { at <= $0 } ?? true } ?? false
                items.append(StoredItem(position: row.position, file: row.file, instances: [], isRemoved: isRemoved))
            }
            guard !items.isEmpty else { return [] }
            // The files' ids, not a join with dataset_files: PostgreSQL planned that join as a
            // parallel scan of the whole dataset for every page.
            let instanceQuery = PostgresQuery(
                unsafeSQL: """
                    SELECT \(columns.instance) FROM instances i LEFT JOIN labels l ON l.id = i.label_id
                    WHERE i.file_id = ANY($1) AND \(columns.alive) ORDER BY i.id
                    """,
                binds: Self.bindings(items.fileIDs))
            for instance in try await db.decodedRows(instanceQuery, Self.storedInstance) { items.add(instance) }
            return items.items
        }
    }

    private static func bindings(_ fileIDs: [Int64]) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(fileIDs)
        return binds
    }

    static func storedFile(_ row: PostgresRow) throws -> StoredFile {
        var columns = ColumnReader(row)
        return try storedFile(&columns)
    }

    /// A row of `position, removed_at, <fileColumns>`.
    static func storedPosition(_ row: PostgresRow) throws -> (position: Int, removedAt: Int64?, file: StoredFile) {
        var columns = ColumnReader(row)
        return (try columns.next(), try columns.next(), try storedFile(&columns))
    }

    /// The next columns of the row, in `fileColumns`' order.
    static func storedFile(_ c: inout ColumnReader) throws -> StoredFile {
        let id: Int64 = try c.next()
        let projectID: String = try c.next()
        let typeName: String = try c.next()
        guard let type = FileType(rawValue: typeName) else {
            throw StoreError.invalid("file \(id) has unknown type \(typeName)")
        }
        return StoredFile(
            id: id, projectID: projectID, type: type, name: try c.next(),
            media: Media(
                sha256: try c.next(), mimeType: try c.next(), byteSize: try c.next(), width: try c.next(),
                height: try c.next(), frameCount: try c.next(), frameRate: try c.next()),
            metadataJSON: try c.next(), status: AnnotationStatus(rawValue: try c.next()) ?? .pending,
            createdAt: Timestamp(milliseconds: try c.next()), updatedAt: Timestamp(milliseconds: try c.next()),
            revision: try c.next())
    }

    /// A row of `instanceColumns`.
    static func storedInstance(_ row: PostgresRow) throws -> StoredInstance {
        var c = ColumnReader(row)
        let id: Int64 = try c.next()
        let fileID: Int64 = try c.next()
        let labelID: Int64? = try c.next()
        let label: String? = try c.next()
        let kindName: String = try c.next()
        guard let kind = InstanceKind(rawValue: kindName) else {
            throw StoreError.invalid("instance \(id) has unknown kind \(kindName)")
        }
        let corners: (Double?, Double?, Double?, Double?) = (try c.next(), try c.next(), try c.next(), try c.next())
        let bbox: BoundingBox? =
            if let xMin = corners.0, let yMin = corners.1, let xMax = corners.2, let yMax = corners.3 {
                BoundingBox(xMin: xMin, yMin: yMin, xMax: xMax, yMax: yMax)
            } else { nil }
        let area: Double? = try c.next()
        let isCrowd = try c.next(Int.self) != 0
        let score: Double? = try c.next()
        let frame: Int? = try c.next()
        let track: Int? = try c.next()
        return StoredInstance(
            id: id, fileID: fileID, labelID: labelID, label: label, kind: kind, bbox: bbox, geometryJSON: try c.next(),
            area: area, isCrowd: isCrowd, score: score, frame: frame, track: track, attributesJSON: try c.next(),
            metadataJSON: try c.next(), creator: try c.next(), createdAt: Timestamp(milliseconds: try c.next()),
            updatedAt: Timestamp(milliseconds: try c.next()), isDeleted: try c.next(Int.self) != 0)
    }
}

/// A row's columns read in order, each once: no random-access row is built (a third of a
/// streamed page's decoding went to building and indexing them). PostgresNIO's tuple decode
/// does the same, but its parameter packs are not specialised and cost more than they save.
struct ColumnReader {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    mutating func next<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard let cell = cells.next() else { throw StoreError.invalid("a row has fewer columns than read") }
        return try cell.decode(T.self)
    }
}
