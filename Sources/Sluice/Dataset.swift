import NIOCore

/// A handle on a dataset: positional access and streaming of its items.
///
/// Positions are stable: appends never move them. Every property and call asks the server,
/// so `count` is always current.
public struct Dataset: Sendable {
    /// The dataset's record as the server returned it when the handle was made.
    public let info: SluiceModel.Dataset
    let connection: Connection

    public var id: Int64 { info.id }
    public var name: String { info.name }

    /// The number of items now.
    public var count: Int {
        get async throws {
            let reply: CountResponse = try await connection.get("/api/v1/datasets/\(id)/count")
            return reply.count
        }
    }

    /// The item at `position`, fetched on its own.
    /// Throws `SluiceError.positionOutOfRange` at or past the end.
    public subscript(position: Int) -> Item {
        get async throws {
            guard position >= 0 else { throw SluiceError.positionOutOfRange(position: position, count: nil) }
            do {
                let body = try await connection.getBytes("/api/v1/datasets/\(id)/items/\(position)")
                return try Self.decode(body) { try WireDecoder.item(from: $0) }
            } catch SluiceError.server(404, "position_out_of_range", _) {
                throw SluiceError.positionOutOfRange(position: position, count: try? await count)
            }
        }
    }

    /// The items at positions `range`, in one request (clipped to the dataset's end).
    public func items(in range: Range<Int>) async throws -> [Item] {
        try await page(range).items
    }

    /// Every item (or those in `range`) in position order, with `prefetch` page requests of
    /// `pageSize` items in flight: memory holds at most `prefetch × pageSize` items.
    ///
    /// The stream ends at the count the server reported when it started; items appended
    /// later are not included. A failed page request is retried from its first position,
    /// so no item is lost or repeated.
    public func items(prefetch: Int = 4, pageSize: Int = 256, range: Range<Int>? = nil) -> ItemStream {
        ItemStream(
            fetch: { [self] range in try await self.page(range) },
            start: range?.lowerBound ?? 0, end: range?.upperBound, prefetch: max(1, prefetch),
            pageSize: max(1, pageSize))
    }

    func page(_ range: Range<Int>) async throws -> ItemPage {
        let body = try await connection.getBytes(
            "/api/v1/datasets/\(id)/items?start=\(range.lowerBound)&end=\(range.upperBound)")
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
