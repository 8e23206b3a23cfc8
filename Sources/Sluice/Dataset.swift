/// A handle on a dataset: positional access and streaming of its items.
///
/// Positions are stable: appends never move them. Every property and call asks the server,
/// so `count` is always current.
public struct Dataset: Sendable {
    /// The dataset's record as the server returned it when the handle was made.
    public let info: SluiceModel.Dataset
    let connection: Connection
    /// The version this handle reads at (`at(_:)`); nil reads the dataset as it is now.
    public var pinnedVersion: Int64? = nil

    public var id: Int64 { info.id }
    public var name: String { info.name }

    var reader: PositionReader {
        PositionReader(connection: connection, route: "/api/v1/datasets/\(id)", version: pinnedVersion)
    }

    /// The number of items now (at the pinned version, for a pinned handle).
    public var count: Int {
        get async throws { try await reader.count }
    }

    /// The item at `position`, fetched on its own.
    /// Throws `SluiceError.positionOutOfRange` at or past the end.
    public subscript(position: Int) -> Item {
        get async throws { try await reader.item(at: position) }
    }

    /// The items at positions `range`, in one request (clipped to the dataset's end).
    public func items(in range: Range<Int>) async throws -> [Item] {
        try await reader.page(range).items
    }

    /// Every item (or those in `range`) in position order, with `prefetch` page requests of
    /// `pageSize` items in flight: memory holds at most `prefetch × pageSize` items.
    ///
    /// The stream ends at the count the server reported when it started; items appended
    /// later are not included. A broken transfer resumes at the first item not received,
    /// so no item is lost or repeated. For shuffling, sharding and resuming, see `epoch()`.
    public func items(prefetch: Int = 4, pageSize: Int = 256, range: Range<Int>? = nil) -> ItemStream {
        ItemStream.inOrder(prefetch: prefetch, rangeSize: pageSize, range: range) { try await self.epoch() }
    }

    /// The dataset's items (or those in `range`) in order as tensor records: the standard keys
    /// of `ItemTensors` (read them with `ItemTensors(record:)`) and the media bytes as `image`.
    /// For shuffling and sharding, see `epoch()`.
    public func tensors(prefetch: Int = 4, rangeSize: Int = 64, range: Range<Int>? = nil) -> TensorStream {
        TensorStream.inOrder(prefetch: prefetch, rangeSize: rangeSize, range: range) { try await self.epoch() }
    }
}
