import Foundation
import Hummingbird

/// What a request presents to prove who it is.
///
/// Accepted forms (docs/diffgram-compat.md, "Authentication"):
/// - `Authorization: Basic base64(client_id:secret)`, Diffgram's scheme;
/// - `Authorization: Bearer client_id:secret`, the single-string key the Sluice SDKs send;
/// - a signed media URL's `key`, `expires` and `signature` query parameters (media only).
enum Credential: Sendable, Equatable {
    case anonymous
    case key(clientID: String, secret: String)
    case signedURL(clientID: String, expires: Int64, signature: String)

    /// The credential of a request; 401 `invalid_key` for an `Authorization` header that is
    /// not one of the accepted forms.
    init(request: Request) throws {
        if let header = request.headers[.authorization] {
            self = try Self.parse(header: header)
        } else if let clientID = request.formQuery.get("key"),
            let expires = request.formQuery.get("expires"),
            let signature = request.formQuery.get("signature")
        {
            guard let seconds = Int64(expires) else { throw AuthError.invalidKey("the signed URL's expiry is not a number") }
            self = .signedURL(clientID: clientID, expires: seconds, signature: signature)
        } else {
            self = .anonymous
        }
    }

    static func parse(header: String) throws -> Credential {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { throw AuthError.invalidKey("the Authorization header has no credentials") }
        let scheme = parts[0].lowercased(), value = parts[1].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "basic":
            guard let data = Data(base64Encoded: value), let text = String(data: data, encoding: .utf8) else {
                throw AuthError.invalidKey("the Basic credentials are not base64 of 'client_id:secret'")
            }
            // The diffgram SDK built without keys still sends Basic auth on some requests,
            // with Python's None stringified: that is how it says "no key".
            if text == "None:None" || text == ":" { return .anonymous }
            return try pair(text)
        case "bearer":
            return try pair(value)
        default:
            throw AuthError.invalidKey("unsupported Authorization scheme '\(parts[0])'; use Basic or Bearer")
        }
    }

    /// `client_id:secret`, split at the first ':' (client ids never contain one).
    private static func pair(_ text: String) throws -> Credential {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex
        else {
            throw AuthError.invalidKey("an API key is 'client_id:secret'")
        }
        return .key(clientID: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
    }
}

/// The 401 and 403 answers, in the JSON error shape.
enum AuthError {
    /// `WWW-Authenticate` of every 401 (RFC 9110 §11.6.1): both schemes are accepted.
    static let challenge = #"Basic realm="sluice", Bearer realm="sluice""#

    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: challenge])
    }

    static func invalidKey(_ message: String) -> APIError {
        APIError(.unauthorized, code: "invalid_key", message: message, headers: [.wwwAuthenticate: challenge])
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message: message)
    }
}
