import Crypto
import Foundation
import Hummingbird
import SluiceStore

/// Signed media URLs of private projects, for clients that fetch images with a plain GET and
/// no credentials (the diffgram SDK hands `image.url_signed` to `imageio.imread`).
///
/// The signature is HMAC-SHA256 over the path and expiry, keyed with the stored hash of the
/// key's secret: any server process on the store can check it with nothing shared but the
/// database, and deleting the key revokes its URLs. A URL grants a GET of that one path
/// until it expires, nothing else.
enum MediaURLSigner {
    /// How long a signed URL stays valid. The SDK fetches the image right after the file.
    static let lifetime: Int64 = 3600

    /// `path?key=…&expires=…&signature=…`.
    static func sign(path: String, key: StoredAPIKey, now: Date = Date()) -> String {
        let expires = Int64(now.timeIntervalSince1970) + lifetime
        let signature = hex(mac(path: path, expires: expires, key: key))
        return "\(path)?key=\(key.clientID)&expires=\(expires)&signature=\(signature)"
    }

    static func isValid(
        signature: String, path: String, expires: Int64, key: StoredAPIKey, method: HTTPRequest.Method,
        now: Date = Date()
    ) -> Bool {
        guard method == .get || method == .head, expires >= Int64(now.timeIntervalSince1970) else { return false }
        return APIKeySecret.constantTimeEqual(Array(hex(mac(path: path, expires: expires, key: key)).utf8), Array(signature.utf8))
    }

    private static func mac(path: String, expires: Int64, key: StoredAPIKey) -> [UInt8] {
        let code = HMAC<SHA256>.authenticationCode(
            for: Array("\(path)\n\(expires)".utf8), using: SymmetricKey(data: key.secretHash))
        return code.withUnsafeBytes { Array($0) }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
