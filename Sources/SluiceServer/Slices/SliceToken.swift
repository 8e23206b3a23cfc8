import Foundation

/// The opaque id of a slice: its dataset and normalised query, base64url-encoded.
///
/// Stateless, so any server process answers for any slice (materialising it on a miss),
/// and URL-safe without escaping.
struct SliceToken: Hashable, Codable {
    var datasetID: Int64
    var query: String

    enum CodingKeys: String, CodingKey {
        case datasetID = "d"
        case query = "q"
    }

    var encoded: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init(datasetID: Int64, query: String) {
        self.datasetID = datasetID
        self.query = query
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
