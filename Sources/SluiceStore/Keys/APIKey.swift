import Crypto
import Foundation
import SluiceModel

/// What an API key may do in its project. Each role can do everything the roles before it can.
public enum APIKeyRole: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Reads a private project.
    case viewer
    /// Reads and writes (datasets, files, instances).
    case editor
    /// Everything an editor can, and managing the project.
    case admin

    public static func < (lhs: APIKeyRole, rhs: APIKeyRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An API key as the store keeps it: the client id in clear, the secret only as its SHA-256.
public struct StoredAPIKey: Sendable, Hashable {
    public var clientID: String
    /// The project the key belongs to; nil for a server-wide admin key (every project, and the
    /// only key that creates projects).
    public var projectID: String?
    public var role: APIKeyRole
    /// SHA-256 of the secret's UTF-8 bytes.
    public var secretHash: [UInt8]
    public var createdAt: Timestamp

    public init(clientID: String, projectID: String?, role: APIKeyRole, secretHash: [UInt8], createdAt: Timestamp) {
        self.clientID = clientID
        self.projectID = projectID
        self.role = role
        self.secretHash = secretHash
        self.createdAt = createdAt
    }

    /// Whether the key is server-wide.
    public var isServerAdmin: Bool { projectID == nil }

    /// Whether `secret` is this key's, compared in constant time.
    public func matches(secret: String) -> Bool {
        APIKeySecret.constantTimeEqual(APIKeySecret.hash(secret), secretHash)
    }
}

/// A key just made: the only place its secret exists in clear, to be shown once.
public struct NewAPIKey: Sendable {
    public var stored: StoredAPIKey
    public var secret: String

    /// The single-string form for `Authorization: Bearer` and `--api-key`: `client_id:secret`.
    public var token: String { "\(stored.clientID):\(secret)" }

    /// A key with a random client id and a random 256-bit secret.
    public static func generate(projectID: String?, role: APIKeyRole, now: Timestamp = .now()) -> NewAPIKey {
        // SystemRandomNumberGenerator reads the OS's CSPRNG (getrandom / arc4random).
        var generator = SystemRandomNumberGenerator()
        let clientID = "sk-" + APIKeySecret.base64URL((0..<12).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let secret = APIKeySecret.base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return NewAPIKey(
            stored: StoredAPIKey(
                clientID: clientID, projectID: projectID, role: role, secretHash: APIKeySecret.hash(secret),
                createdAt: now),
            secret: secret)
    }
}

/// Hashing and comparing secrets.
public enum APIKeySecret {
    /// SHA-256 of the secret's UTF-8 bytes. Secrets are random and long, so no salt or slow
    /// hash is needed: there is no dictionary to guess from.
    public static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Equality that takes the same time wherever the inputs differ, so timing tells an
    /// attacker nothing about how much of a guess was right.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Unpadded base64url: no ':' (the token's separator), no characters URLs need escaped.
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
