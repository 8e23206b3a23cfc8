import Foundation
import NIOCore
import PostgresNIO
import SluiceModel

/// Project visibility, API keys and dataset tags.
extension PostgresStore {
    public func setProjectPublic(id: String, isPublic: Bool) async throws {
        try await write { db in
            guard try await db.row("UPDATE projects SET is_public = \(isPublic) WHERE id = \(id) RETURNING 1") != nil else {
                throw StoreError.projectNotFound(id)
            }
        }
    }

    public func insertAPIKey(_ key: StoredAPIKey) async throws {
        guard let projectID = key.projectID else { return try await insertServerKey(key) }
        try await write { db in
            guard try await Self.fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
            try await db.execute(
                """
                INSERT INTO api_keys (client_id, project_id, role, secret_sha256, created_at)
                VALUES (\(key.clientID), \(projectID), \(key.role.rawValue), \(ByteBuffer(bytes: key.secretHash)),
                    \(key.createdAt.milliseconds))
                """)
        }
    }

    public func insertServerKey(_ key: StoredAPIKey) async throws {
        try await write { db in
            try await db.execute(
                """
                INSERT INTO server_keys (client_id, secret_sha256, created_at)
                VALUES (\(key.clientID), \(ByteBuffer(bytes: key.secretHash)), \(key.createdAt.milliseconds))
                """)
        }
    }

    public func apiKey(clientID: String) async throws -> StoredAPIKey? {
        try await read { db in
            if let row = try await db.row(
                "SELECT client_id, secret_sha256, created_at FROM server_keys WHERE client_id = \(clientID)")
            {
                return StoredAPIKey(
                    clientID: try row.at(0), projectID: nil, role: .admin,
                    secretHash: Array(buffer: try row.at(1, as: ByteBuffer.self)),
                    createdAt: Timestamp(milliseconds: try row.at(2)))
            }
            return try await db.row(
                "SELECT client_id, project_id, role, secret_sha256, created_at FROM api_keys WHERE client_id = \(clientID)"
            ).map { row in
                let roleName = try row.at(2, as: String.self)
                guard let role = APIKeyRole(rawValue: roleName) else {
                    throw StoreError.invalid("API key \(try row.at(0, as: String.self)) has unknown role \(roleName)")
                }
                return StoredAPIKey(
                    clientID: try row.at(0), projectID: try row.at(1), role: role,
                    secretHash: Array(buffer: try row.at(3, as: ByteBuffer.self)),
                    createdAt: Timestamp(milliseconds: try row.at(4)))
            }
        }
    }

    // MARK: Dataset tags (not versioned: a tag write advances the project's tag revision)

    static func projectID(_ db: PostgresSession, ofDataset datasetID: Int64) async throws -> String {
        guard let projectID = try await db.value("SELECT project_id FROM datasets WHERE id = \(datasetID)", as: String.self)
        else { throw StoreError.notFound("no dataset with id \(datasetID)") }
        return projectID
    }

    static func fetchTags(_ db: PostgresSession, datasetID: Int64) async throws -> [String] {
        // The column's "C" collation: byte order, the order text compares in queries.
        try await db.values("SELECT tag FROM dataset_tags WHERE dataset_id = \(datasetID) ORDER BY tag", as: String.self)
    }

    public func datasetTags(datasetID: Int64) async throws -> [String] {
        try await read { db in
            _ = try await Self.projectID(db, ofDataset: datasetID)
            return try await Self.fetchTags(db, datasetID: datasetID)
        }
    }

    public func addDatasetTags(datasetID: Int64, _ tags: [String]) async throws -> [String] {
        for (index, tag) in tags.enumerated() { try SQLiteStore.validateTag(tag, field: "tags[\(index)]") }
        return try await write { db in
            let projectID = try await Self.projectID(db, ofDataset: datasetID)
            let held = try await Self.fetchTags(db, datasetID: datasetID)
            let new = Set(tags).subtracting(held)
            guard held.count + new.count <= SQLiteStore.maximumTagsPerDataset else {
                throw StoreError.invalidField(
                    FieldError(
                        path: "tags",
                        message: "a dataset holds at most \(SQLiteStore.maximumTagsPerDataset) tags; it has \(held.count), this adds \(new.count)"))
            }
            let now = Timestamp.now().milliseconds
            for tag in new.sorted() {
                try await db.execute(
                    "INSERT INTO dataset_tags (dataset_id, tag, created_at) VALUES (\(datasetID), \(tag), \(now))")
            }
            if !new.isEmpty { try await Self.advanceTagsRevision(db, projectID: projectID) }
            return try await Self.fetchTags(db, datasetID: datasetID)
        }
    }

    public func removeDatasetTag(datasetID: Int64, _ tag: String) async throws -> [String] {
        try await write { db in
            let projectID = try await Self.projectID(db, ofDataset: datasetID)
            guard try await db.row(
                "DELETE FROM dataset_tags WHERE dataset_id = \(datasetID) AND tag = \(tag) RETURNING 1") != nil
            else { throw StoreError.notFound("dataset \(datasetID) has no tag '\(tag)'") }
            try await Self.advanceTagsRevision(db, projectID: projectID)
            return try await Self.fetchTags(db, datasetID: datasetID)
        }
    }

    public func datasetTagsRevision(projectID: String) async throws -> Int64 {
        try await read { db in
            try await db.value("SELECT revision FROM dataset_tag_revisions WHERE project_id = \(projectID)", as: Int64.self) ?? 0
        }
    }

    static func advanceTagsRevision(_ db: PostgresSession, projectID: String) async throws {
        try await db.execute(
            """
            INSERT INTO dataset_tag_revisions (project_id, revision) VALUES (\(projectID), 1)
            ON CONFLICT (project_id) DO UPDATE SET revision = dataset_tag_revisions.revision + 1
            """)
    }
}
