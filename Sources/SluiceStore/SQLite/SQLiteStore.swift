import Foundation
import GRDB
import Logging
import SluiceModel

/// The embedded store: one SQLite file in WAL mode (one writer, many readers) plus a media directory.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    /// Where media bytes live.
    public let media: MediaStore
    /// The SQLite database file.
    public let databasePath: String
    /// Wakes this process's waiters on the change feed after each write that recorded changes.
    public let changeNotifier = ChangeNotifier()

    /// Opens (creating and migrating if needed) the store in `directory`:
    /// `directory/sluice.sqlite` and `directory/media/`.
    ///
    /// `memoryMapped: false` reads through SQLite's bounded page cache instead of mapping the
    /// file: a process that reads the whole database once (an export) then stays within its
    /// cache, where mapped pages would all count in its resident memory.
    public convenience init(directory: URL, memoryMapped: Bool = true) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try self.init(
            databasePath: directory.appendingPathComponent("sluice.sqlite").path,
            media: MediaStore(root: directory.appendingPathComponent("media")), memoryMapped: memoryMapped)
    }

    public init(databasePath: String, media: MediaStore, memoryMapped: Bool = true) throws {
        var configuration = Configuration()
        configuration.label = "sluice"
        // Readers never wait for the writer in WAL mode; writers wait for each other, not fail.
        configuration.busyMode = .timeout(30)
        configuration.maximumReaderCount = 8
        configuration.prepareDatabase { db in
            // NORMAL is durable in WAL mode except for the last commits before a power loss.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Reads straight from the OS page cache instead of copying each page in: slices
            // look up thousands of scattered index pages, and a fresh connection does so at
            // half the cost. SQLite caps the size at its compile-time maximum.
            if memoryMapped { try db.execute(sql: "PRAGMA mmap_size = 17179869184") }
        }
        // Migrations run on a connection of their own, closed before the pool opens: a schema
        // rebuild (ALTER TABLE … RENAME) opens SQLite's temp database on its connection, and on
        // the pool's writer that would forbid `PRAGMA temp_store` inside the transactions that
        // build indexes (`createIndexes`) for the rest of the process.
        var migration = Configuration()
        migration.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: databasePath, configuration: migration)
        try Migrations.migrator.migrate(queue)
        try queue.close()
        pool = try DatabasePool(path: databasePath, configuration: configuration)
        self.databasePath = databasePath
        self.media = media
    }

    public func ensureProject(_ project: Project) async throws -> Project {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO projects (id, name, is_public, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                arguments: [project.id, project.name, project.isPublic, project.createdAt.milliseconds])
            return try Self.fetchProject(db, id: project.id)!
        }
    }

    public func project(id: String) async throws -> Project? {
        try await pool.read { db in try Self.fetchProject(db, id: id) }
    }

    public func projects() async throws -> [Project] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, is_public, created_at FROM projects ORDER BY id").map(Self.project)
        }
    }

    public func ensureDataset(projectID: String, name: String) async throws -> Dataset {
        try await pool.write { db in try Self.ensureDataset(db, projectID: projectID, name: name) }
    }

    public func dataset(id: Int64) async throws -> Dataset? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "\(Self.datasetColumns) WHERE id = ?"), arguments: [id])
                .map(Self.dataset)
        }
    }

    public func dataset(projectID: String, name: String) async throws -> Dataset? {
        try await pool.read { db in try Self.fetchDataset(db, projectID: projectID, name: name) }
    }

    public func datasets(projectID: String) async throws -> [Dataset] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "\(Self.datasetColumns) WHERE project_id = ? ORDER BY id", arguments: [projectID])
                .map(Self.dataset)
        }
    }

    public func checkReady() async throws {
        let complete = try await pool.read { db in try Migrations.migrator.hasCompletedMigrations(db) }
        guard complete else { throw StoreError.invalid("the store's schema is older than this build: run it once to migrate") }
    }

    public func databaseBytes() async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()") ?? 0
        }
    }

    public func labels(projectID: String) async throws -> [Label] {
        try await labels(projectID: projectID, at: nil)
    }

    public func labels(projectID: String, at version: VersionPoint?) async throws -> [Label] {
        let name = version.map {
            """
            coalesce((SELECT h.name FROM label_names h WHERE h.label_id = labels.id AND h.valid_to > \($0.clock)
            ORDER BY h.valid_to LIMIT 1), name)
            """
        } ?? "name"
        // Every row, deleted ones too: a label's tensor index is its place among all of them.
        let existed = version.map { "valid_from <= \($0.clock) AND (valid_to IS NULL OR valid_to > \($0.clock))" }
            ?? "valid_to IS NULL"
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, \(name), color, supercategory, keypoint_names, skeleton, \(existed) FROM labels
                    WHERE project_id = ? ORDER BY id
                    """,
                arguments: [projectID]
            ).enumerated().compactMap { index, row in
                row[6] as Bool ? try Self.label(row, index: index) : nil
            }
        }
    }

    /// A label from the columns `id, name, color, supercategory, keypoint_names, skeleton`.
    static func label(_ row: Row, index: Int) throws -> Label {
        Label(
            id: row[0], name: row[1], color: row[2], supercategory: row[3],
            keypointNames: try (row[4] as String?).map { try JSONColumn.decode([String].self, from: $0) },
            skeleton: try (row[5] as String?).map { try JSONColumn.decode([[Int]].self, from: $0) }, index: index)
    }

    public func attributeGroups(projectID: String) async throws -> [AttributeGroup] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, name, kind, options FROM attribute_groups WHERE project_id = ? ORDER BY id",
                arguments: [projectID]
            ).map { row in
                AttributeGroup(
                    id: row[0], name: row[1], kind: AttributeKind(rawValue: row[2]) ?? .text,
                    options: try JSONColumn.decode([String].self, from: row[3]))
            }
        }
    }

    public func labelCounts(fileID: Int64) async throws -> [LabelCount] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT label_id, count FROM label_counts WHERE file_id = ? ORDER BY label_id",
                arguments: [fileID]
            ).map { LabelCount(fileID: fileID, labelID: $0[0], count: $0[1]) }
        }
    }

    public func file(id: Int64) async throws -> File? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.fileColumns) FROM files f WHERE f.id = ?"), arguments: [id])
                .map { try Self.storedFile($0, offset: 0).decoded() }
        }
    }

    /// Creates an attribute group (or returns the existing one of that name).
    public func ensureAttributeGroup(projectID: String, name: String, kind: AttributeKind, options: [String])
        async throws -> AttributeGroup
    {
        let optionsJSON = try JSONColumn.encode(options)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO attribute_groups (project_id, name, kind, options) VALUES (?, ?, ?, ?)
                    ON CONFLICT (project_id, name) DO NOTHING
                    """,
                arguments: [projectID, name, kind.rawValue, optionsJSON])
            let row = try Row.fetchOne(
                db, sql: "SELECT id, name, kind, options FROM attribute_groups WHERE project_id = ? AND name = ?",
                arguments: [projectID, name])!
            return AttributeGroup(
                id: row[0], name: row[1], kind: AttributeKind(rawValue: row[2]) ?? .text,
                options: try JSONColumn.decode([String].self, from: row[3]))
        }
    }

    // MARK: Row mapping shared by reads and writes

    static func fetchProject(_ db: GRDB.Database, id: String) throws -> Project? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, name, is_public, created_at FROM projects WHERE id = ?"), arguments: [id]
        ).map(project)
    }

    static func project(_ row: Row) -> Project {
        Project(id: row[0], name: row[1], isPublic: row[2], createdAt: Timestamp(milliseconds: row[3]))
    }

    static let datasetColumns = "SELECT id, project_id, name, file_count, version, created_at, removed_count FROM datasets"

    static func dataset(_ row: Row) -> Dataset {
        Dataset(
            id: row[0], projectID: row[1], name: row[2], count: row[3], version: row[4],
            createdAt: Timestamp(milliseconds: row[5]), removedCount: row[6])
    }

    static func fetchDataset(_ db: GRDB.Database, projectID: String, name: String) throws -> Dataset? {
        try Row.fetchOne(
            db.cachedStatement(sql: "\(datasetColumns) WHERE project_id = ? AND name = ?"), arguments: [projectID, name]
        ).map(dataset)
    }

    static func ensureDataset(_ db: GRDB.Database, projectID: String, name: String) throws -> Dataset {
        guard try fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        try db.execute(
            sql: """
                INSERT INTO datasets (project_id, name, created_at) VALUES (?, ?, ?)
                ON CONFLICT (project_id, name) DO NOTHING
                """,
            arguments: [projectID, name, Timestamp.now().milliseconds])
        return try fetchDataset(db, projectID: projectID, name: name)!
    }
}
