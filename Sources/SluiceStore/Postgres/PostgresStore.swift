import Foundation
import Logging
import NIOCore
import PostgresNIO
import SluiceModel

/// The scale-out store: PostgreSQL through PostgresNIO, plus a media directory that every
/// server on the database shares. The same behaviour as `SQLiteStore` (one test suite runs
/// against both), on the same schema (PostgresSchema), so several stateless servers can
/// answer for one database.
public final class PostgresStore: Store {
    let client: PostgresClient
    /// The pool's run loop: PostgresClient serves leases only while `run()` is running.
    private let running: Task<Void, Never>
    /// Done once `running` has entered `run()`: a lease asked for before it waits, but
    /// PostgresClient logs a warning about it, which users of `sluice import` then saw.
    private let started: Task<Void, Never>
    /// Listens for the change notifications of every server on the database (`notify`).
    private let listening: Task<Void, Never>
    let logger: Logger
    public let media: MediaStore
    public let changeNotifier = ChangeNotifier()

    /// Connects to `url` (`postgres://user:password@host:port/database`), migrates the schema
    /// (once, under an advisory lock, when several servers start together) and returns the store.
    public static func open(url: String, media: MediaStore, maximumConnections: Int = 16) async throws -> PostgresStore {
        let (configuration, schema) = try PostgresURL.configuration(url, maximumConnections: maximumConnections)
        let store = PostgresStore(configuration: configuration, schema: schema, media: media)
        await store.started.value
        do {
            try await store.migrate(schema: schema)
        } catch {
            store.close()
            throw error
        }
        return store
    }

    /// The schema named by the URL's `schema=`, if any.
    let schema: String?

    private init(configuration: PostgresClient.Configuration, schema: String?, media: MediaStore) {
        self.schema = schema
        var logger = Logger(label: "sluice.postgres")
        logger.logLevel = .warning
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        // The client's lifetime is the store's: from open to close, like the SQLite pool's.
        let (entering, enter) = AsyncStream<Void>.makeStream()
        // Nothing suspends between `finish()` and `run()` setting its running flag, while the
        // waiters of `started` must first be scheduled: in practice they find it set. If one
        // does not, its lease still waits for `run()`, and only the warning shows.
        running = Task {
            enter.finish()
            await client.run()
        }
        let started = Task { for await _ in entering {} }
        self.started = started
        changeChannel = "sluice_changes_\(schema ?? "public")"
        listening = Self.listenForChanges(
            client: client, channel: changeChannel, notifier: changeNotifier, after: started)
        self.media = media
    }

    /// Closes the connections. Operations after it fail.
    public func close() {
        listening.cancel()
        running.cancel()
    }

    deinit {
        listening.cancel()
        running.cancel()
    }

    // MARK: Change notifications across servers

    /// The channel this store's servers notify each other on: one per schema.
    let changeChannel: String

    /// Wakes the change-feed waiters of this process and, through LISTEN/NOTIFY, of every
    /// other server on the database, for datasets a committed write changed. A notification
    /// lost (a server's connection dropping) only delays a waiter until its next poll.
    func notify(_ datasetIDs: Set<Int64>) async {
        guard !datasetIDs.isEmpty else { return }
        changeNotifier.notify(datasetIDs: datasetIDs)
        let payload = datasetIDs.sorted().map(String.init).joined(separator: ",")
        _ = try? await client.withConnection { connection in
            try await PostgresSession(connection: connection, logger: logger)
                .execute("SELECT pg_notify(\(changeChannel), \(payload))")
        }
    }

    /// Holds one connection listening on `changeChannel`, and again after it drops.
    private static func listenForChanges(
        client: PostgresClient, channel: String, notifier: ChangeNotifier, after started: Task<Void, Never>
    ) -> Task<Void, Never> {
        Task {
            await started.value
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: channel) { notifications in
                            for try await notification in notifications {
                                notifier.notify(datasetIDs: notification.payload.split(separator: ",").compactMap { Int64($0) })
                            }
                        }
                    }
                } catch {
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Drops the schema the URL named (`schema=`) and everything in it: for throwaway stores
    /// (tests, benchmarks). Refused for a store in the database's default schema.
    public func dropSchema() async throws {
        guard let schema else { throw StoreError.invalid("this store has no schema of its own to drop") }
        try await client.withConnection { connection in
            try await PostgresSession(connection: connection, logger: logger)
                .execute(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"))
        }
    }

    // MARK: Sessions

    /// Runs `body` in a read-only REPEATABLE READ transaction: every statement of one
    /// operation sees the same commits, as a SQLite read does.
    func read<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let session = PostgresSession(connection: connection, logger: logger)
            try await session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try await body(session)
                try await session.execute("COMMIT")
                return result
            } catch {
                try? await session.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `body` in one write transaction holding the writer lock: one writer at a time,
    /// everything or nothing.
    func write<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let session = PostgresSession(connection: connection, logger: logger)
            try await session.execute("BEGIN")
            do {
                // The writer's turn: the store clock's row, locked until commit. A row of the
                // store's own schema, so stores in other schemas of the database write at once.
                try await session.execute("SELECT seq FROM store_clock WHERE id = 1 FOR UPDATE")
                let result = try await body(session)
                try await session.execute("COMMIT")
                return result
            } catch {
                try? await session.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: Schema

    /// Applies the migrations this build knows and the database lacks, each in its own
    /// transaction, holding a session advisory lock: a server that starts while another
    /// migrates waits for it, then finds nothing to do.
    func migrate(schema: String?) async throws {
        try await client.withConnection { connection in
            let session = PostgresSession(connection: connection, logger: logger)
            let lock = "\(PostgresSchema.migrationLockClass), hashtext('\(schema ?? "public")')"
            try await session.execute(PostgresQuery(unsafeSQL: "SELECT pg_advisory_lock(\(lock))"))
            do {
                // The name is checked to be a plain identifier (PostgresURL): safe to quote into SQL.
                if let schema {
                    try await session.execute(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""))
                }
                try await session.execute(
                    "CREATE TABLE IF NOT EXISTS sluice_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)")
                let applied = Set(try await session.values("SELECT version FROM sluice_migrations", as: Int.self))
                for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                    try await session.execute("BEGIN")
                    do {
                        for statement in PostgresSchema.statements(migration.sql) {
                            try await session.execute(PostgresQuery(unsafeSQL: statement))
                        }
                        try await session.execute(
                            "INSERT INTO sluice_migrations (version, applied_at) VALUES (\(migration.version), \(Timestamp.now().milliseconds))")
                        try await session.execute("COMMIT")
                    } catch {
                        try? await session.execute("ROLLBACK")
                        throw error
                    }
                }
            } catch {
                _ = try? await session.execute(PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock(\(lock))"))
                throw error
            }
            try await session.execute(PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock(\(lock))"))
        }
    }

    public func checkReady() async throws {
        let applied = try await read { db in try await db.values("SELECT version FROM sluice_migrations", as: Int.self) }
        let known = PostgresSchema.migrations.map(\.version)
        guard Set(known).isSubset(of: Set(applied)) else {
            throw StoreError.invalid("the store's schema is older than this build: start a server once to migrate")
        }
    }

    public func databaseBytes() async throws -> Int64 {
        try await read { db in try await db.value("SELECT pg_database_size(current_database())", as: Int64.self) ?? 0 }
    }

    // MARK: Projects and datasets

    static let projectColumns = "SELECT id, name, is_public, created_at FROM projects"

    static func project(_ row: PostgresRandomAccessRow) throws -> Project {
        Project(
            id: try row.at(0), name: try row.at(1), isPublic: try row.at(2),
            createdAt: Timestamp(milliseconds: try row.at(3)))
    }

    static func fetchProject(_ db: PostgresSession, id: String) async throws -> Project? {
        try await db.row("\(unescaped: projectColumns) WHERE id = \(id)").map(project)
    }

    public func ensureProject(_ project: Project) async throws -> Project {
        try await write { db in
            try await db.execute(
                """
                INSERT INTO projects (id, name, is_public, created_at)
                VALUES (\(project.id), \(project.name), \(project.isPublic), \(project.createdAt.milliseconds))
                ON CONFLICT (id) DO NOTHING
                """)
            return try await Self.fetchProject(db, id: project.id)!
        }
    }

    public func project(id: String) async throws -> Project? {
        try await read { db in try await Self.fetchProject(db, id: id) }
    }

    public func projects() async throws -> [Project] {
        try await read { db in try await db.rows("\(unescaped: Self.projectColumns) ORDER BY id").map(Self.project) }
    }

    static let datasetColumns = "SELECT id, project_id, name, file_count, version, created_at, removed_count FROM datasets"

    static func dataset(_ row: PostgresRandomAccessRow) throws -> Dataset {
        Dataset(
            id: try row.at(0), projectID: try row.at(1), name: try row.at(2), count: try row.at(3),
            version: try row.at(4), createdAt: Timestamp(milliseconds: try row.at(5)), removedCount: try row.at(6))
    }

    static func fetchDataset(_ db: PostgresSession, id: Int64) async throws -> Dataset? {
        try await db.row("\(unescaped: datasetColumns) WHERE id = \(id)").map(dataset)
    }

    static func fetchDataset(_ db: PostgresSession, projectID: String, name: String) async throws -> Dataset? {
        try await db.row("\(unescaped: datasetColumns) WHERE project_id = \(projectID) AND name = \(name)").map(dataset)
    }

    static func ensureDataset(_ db: PostgresSession, projectID: String, name: String) async throws -> Dataset {
        guard try await fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        try await db.execute(
            """
            INSERT INTO datasets (project_id, name, created_at) VALUES (\(projectID), \(name), \(Timestamp.now().milliseconds))
            ON CONFLICT (project_id, name) DO NOTHING
            """)
        return try await fetchDataset(db, projectID: projectID, name: name)!
    }

    public func ensureDataset(projectID: String, name: String) async throws -> Dataset {
        try await write { db in try await Self.ensureDataset(db, projectID: projectID, name: name) }
    }

    public func dataset(id: Int64) async throws -> Dataset? {
        try await read { db in try await Self.fetchDataset(db, id: id) }
    }

    public func dataset(projectID: String, name: String) async throws -> Dataset? {
        try await read { db in try await Self.fetchDataset(db, projectID: projectID, name: name) }
    }

    public func datasets(projectID: String) async throws -> [Dataset] {
        try await read { db in
            try await db.rows("\(unescaped: Self.datasetColumns) WHERE project_id = \(projectID) ORDER BY id").map(Self.dataset)
        }
    }

    // MARK: Labels and attribute groups

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
        return try await read { db in
            try await db.rows(
                """
                SELECT id, \(unescaped: name), color, supercategory, keypoint_names, skeleton, \(unescaped: existed)
                FROM labels WHERE project_id = \(projectID) ORDER BY id
                """
            ).enumerated().compactMap { index, row in
                try row.at(6, as: Bool.self) ? try Self.label(row, index: index) : nil
            }
        }
    }

    /// A label from the columns `id, name, color, supercategory, keypoint_names, skeleton`.
    static func label(_ row: PostgresRandomAccessRow, index: Int) throws -> Label {
        Label(
            id: try row.at(0), name: try row.at(1), color: try row.at(2), supercategory: try row.at(3),
            keypointNames: try row.at(4, as: String?.self).map { try JSONColumn.decode([String].self, from: $0) },
            skeleton: try row.at(5, as: String?.self).map { try JSONColumn.decode([[Int]].self, from: $0) }, index: index)
    }

    static func attributeGroup(_ row: PostgresRandomAccessRow) throws -> AttributeGroup {
        AttributeGroup(
            id: try row.at(0), name: try row.at(1), kind: AttributeKind(rawValue: try row.at(2)) ?? .text,
            options: try JSONColumn.decode([String].self, from: try row.at(3)))
    }

    public func attributeGroups(projectID: String) async throws -> [AttributeGroup] {
        try await read { db in
            try await db.rows(
                "SELECT id, name, kind, options FROM attribute_groups WHERE project_id = \(projectID) ORDER BY id"
            ).map(Self.attributeGroup)
        }
    }

    public func labelCounts(fileID: Int64) async throws -> [LabelCount] {
        try await read { db in
            try await db.rows("SELECT label_id, count FROM label_counts WHERE file_id = \(fileID) ORDER BY label_id")
                .map { LabelCount(fileID: fileID, labelID: try $0.at(0), count: try $0.at(1)) }
        }
    }

    public func file(id: Int64) async throws -> File? {
        try await read { db in
            try await db.decodedRow("SELECT \(unescaped: Self.fileColumns) FROM files f WHERE f.id = \(id)", Self.storedFile)
                .map { try $0.decoded() }
        }
    }
}

/// The pool's configuration from a `postgres://` URL. Besides libpq's `sslmode` and `host`
/// (a socket directory), `schema=NAME` keeps the store in a schema of its own, created when
/// missing: several stores in one database, as the tests run them.
enum PostgresURL {
    static func configuration(_ text: String, maximumConnections: Int) throws
        -> (PostgresClient.Configuration, schema: String?)
    {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw StoreError.invalid("expected a URL like postgres://user:password@host:5432/database, got '\(text)'")
        }
        let query = Dictionary(
            (url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let username = url.user.flatMap { $0.removingPercentEncoding } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = url.password.flatMap { $0.removingPercentEncoding }
        let database = url.path.isEmpty ? nil : String(url.path.dropFirst()).removingPercentEncoding
        var configuration: PostgresClient.Configuration
        if let socket = query["host"], socket.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: socket + "/.s.PGSQL.\(url.port ?? 5432)", username: username, password: password,
                database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "prefer" {
            case "disable": tls = .disable
            case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
            default: tls = .prefer(.makeClientConfiguration())
            }
            configuration = .init(
                host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: username, password: password,
                database: database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        // Connections kept open when idle: a server's first requests do not pay for connecting
        // (TCP, authentication, start-up), which cost more than their queries.
        configuration.options.minimumConnections = min(4, maximumConnections)
        // JIT compiles a plan that the planner thinks costly; a slice over a million files is,
        // and compiling took longer than running it. The store's statements are short.
        configuration.options.additionalStartupParameters = [("jit", "off")]
        let schema = query["schema"]
        if let schema {
            guard !schema.isEmpty, schema.count <= 63,
                schema.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
            else {
                throw StoreError.invalid("schema: expected 1 to 63 of a-z, 0-9 and _, got '\(schema)'")
            }
            configuration.options.additionalStartupParameters.append(("search_path", schema))
        }
        return (configuration, schema)
    }
}
