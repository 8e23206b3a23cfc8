import Foundation
import GRDB
import SluiceModel

/// Project visibility and API keys.
extension SQLiteStore {
    public func setProjectPublic(id: String, isPublic: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE projects SET is_public = ? WHERE id = ?", arguments: [isPublic, id])
            guard db.changesCount > 0 else { throw StoreError.projectNotFound(id) }
        }
    }

    public func insertAPIKey(_ key: StoredAPIKey) async throws {
        guard let projectID = key.projectID else { return try await insertServerKey(key) }
        try await pool.write { db in
            guard try Self.fetchProject(db, id: projectID) != nil else {
                throw StoreError.projectNotFound(projectID)
            }
            try db.execute(
                sql: """
                    INSERT INTO api_keys (client_id, project_id, role, secret_sha256, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.clientID, key.projectID, key.role.rawValue, Data(key.secretHash), key.createdAt.milliseconds,
                ])
        }
    }

    public func insertServerKey(_ key: StoredAPIKey) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO server_keys (client_id, secret_sha256, created_at) VALUES (?, ?, ?)",
                arguments: [key.clientID, Data(key.secretHash), key.createdAt.milliseconds])
        }
    }

    public func apiKey(clientID: String) async throws -> StoredAPIKey? {
        try await pool.read { db in
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT client_id, secret_sha256, created_at FROM server_keys WHERE client_id = ?"),
                arguments: [clientID])
            {
                return StoredAPIKey(
                    clientID: row[0], projectID: nil, role: .admin, secretHash: Array(row[1] as Data),
                    createdAt: Timestamp(milliseconds: row[2]))
            }
            return try Row.fetchOne(
                db.cachedStatement(sql: "SELECT client_id, project_id, role, secret_sha256, created_at FROM api_keys WHERE client_id = ?"),
                arguments: [clientID]
            ).map { row in
                guard let role = APIKeyRole(rawValue: row[2]) else {
                    throw StoreError.invalid("API key \(row[0] as String) has unknown role \(row[2] as String)")
                }
                return StoredAPIKey(
                    clientID: row[0], projectID: row[1], role: role, secretHash: Array(row[3] as Data),
                    createdAt: Timestamp(milliseconds: row[4]))
            }
        }
    }
}
