import Foundation

/// The opaque id of a slice: its dataset and normalised query, base64url-encoded.
///
/// Stateless, so any server process answers for any slice (materialising it on a miss),
/// and URL-safe without escaping.
struct SliceToken: Hashable, Codable {
    var datasetID: Int64
    var query: String
    /// The dataset version the slice is pinned to; nil follows the dataset's current version.
    var version: Int64?

    enum CodingKeys: String, CodingKey {
        case datasetID = "d"
        case query = "q"
        case version = "v"
    }

    /// The id. Keys are sorted: Foundation's encoder otherwise writes them in an order that
    /// varies between encodings, and one slice must have one id.
    var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(datasetID: Int64, query: String, version: Int64? = nil) {
        self.datasetID = datasetID
        self.query = query
        self.version = version
    }

    init?(encoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let token = try? JSONDecoder().decode(SliceToken.self, from: data)
        else { return nil }
        self = token
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
