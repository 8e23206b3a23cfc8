import NIOCore

/// Reads items by position under one route: what a dataset (`/datasets/{id}`) and a slice
/// (`/slices/{id}`) share, since the server answers both with the same `count`, `items/{i}`
/// and `items?start&end` routes.
struct PositionReader: Sendable {
    let connection: Connection
    /// `/api/v1/datasets/{id}` or `/api/v1/slices/{id}`.
    let route: String
    /// The version every read is at (a dataset pinned with `at(_:)`); nil for now.
    var version: Int64? = nil

    private var suffix: String { version.map { "version=\($0)" } ?? "" }

    var count: Int {
        get async throws {
            let reply: CountResponse = try await connection.get("\(route)/count" + (suffix.isEmpty ? "" : "?\(suffix)"))
            return reply.count
        }
    }

    /// Throws `SluiceError.positionOutOfRange` at or past the end.
    func item(at position: Int) async throws -> Item {
        guard position >= 0 else { throw SluiceError.positionOutOfRange(position: position, count: nil) }
        do {
            let body = try await connection.getBytes("\(route)/items/\(position)" + (suffix.isEmpty ? "" : "?\(suffix)"))
            return try Self.decode(body) { try WireDecoder.item(from: $0) }
        } catch SluiceError.server(404, "position_out_of_range", _) {
            throw SluiceError.positionOutOfRange(position: position, count: try? await count)
        }
    }

    func page(_ range: Range<Int>) async throws -> ItemPage {
        let body = try await connection.getBytes(
            "\(route)/items?start=\(range.lowerBound)&end=\(range.upperBound)" + (suffix.isEmpty ? "" : "&\(suffix)"))
        return try Self.decode(body) { try WireDecoder.itemPage(from: $0) }
    }

    static func decode<T>(_ body: ByteBuffer, _ decoder: ([UInt8]) throws -> T) throws -> T {
        do {
            return try decoder(Array(body.readableBytesView))
        } catch {
            throw SluiceError.badResponse("\(error)")
        }
    }
}
