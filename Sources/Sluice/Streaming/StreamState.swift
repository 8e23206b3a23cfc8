import Foundation
import Synchronization

/// Where a consumer stands in an epoch: enough to continue exactly there, in another
/// process, or with another number of ranks. Saved and restored as one short `token`.
public struct StreamState: Sendable, Hashable, Codable {
    public var datasetID: Int64
    /// The slice streamed, by its server id; nil for the whole dataset.
    public var sliceID: String?
    /// The dataset version the epoch started at (a slice's positions belong to it).
    public var version: Int64
    /// A dataset epoch of a pinned handle (`Dataset.at`): it reads `version`'s items, not the
    /// current ones. Absent (nil) otherwise, so tokens of unpinned epochs keep their old form.
    public var pinned: Bool?
    public var count: Int
    public var shuffle: Shuffle?
    public var shard: Shard
    public var history: [ConsumedRun]
    /// Items of this shard delivered so far.
    public var delivered: Int

    static let prefix = "sluice-stream-1."

    /// The state as text: `sluice-stream-1.` and the base64url of its JSON, safe in a URL,
    /// a file name or a checkpoint's metadata. The Python package reads and writes the same.
    public var token: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(self)) ?? Data()
        return Self.prefix
            + json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token; throws `SluiceError.invalidArgument` when it is not one.
    public init(token: String) throws {
        guard token.hasPrefix(Self.prefix) else {
            throw SluiceError.invalidArgument("not a stream token (it starts with '\(Self.prefix)')")
        }
        var base64 = String(token.dropFirst(Self.prefix.count))
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let json = Data(base64Encoded: base64) else {
            throw SluiceError.invalidArgument("a damaged stream token: not base64url")
        }
        do {
            self = try JSONDecoder().decode(StreamState.self, from: json)
        } catch {
            throw SluiceError.invalidArgument("a damaged stream token: \(error)")
        }
    }

    init(
        datasetID: Int64, sliceID: String?, version: Int64, pinned: Bool = false, order: StreamOrder, delivered: Int
    ) {
        self.datasetID = datasetID
        self.sliceID = sliceID
        self.version = version
        self.pinned = pinned ? true : nil
        self.count = order.count
        self.shuffle = order.shuffle
        self.shard = order.shard
        self.history = order.history
        self.delivered = delivered
    }

    var order: StreamOrder {
        get throws {
            do {
                return try StreamOrder(count: count, shuffle: shuffle, shard: shard, history: history)
            } catch {
                throw SluiceError.invalidArgument("a stream token with a bad order: \(error)")
            }
        }
    }

    /// The states of every rank of one run, as the history a new run continues from.
    ///
    /// Throws when they are not one run's complete set: another epoch, dataset or version,
    /// or a rank missing or twice.
    static func merged(_ states: [StreamState]) throws -> (epoch: StreamState, run: ConsumedRun) {
        guard let first = states.first else { throw SluiceError.invalidArgument("no stream tokens to resume from") }
        let world = first.shard.worldSize
        var counts = [Int?](repeating: nil, count: world)
        for state in states {
            guard state.datasetID == first.datasetID, state.sliceID == first.sliceID, state.version == first.version,
                state.pinned == first.pinned,
                state.count == first.count, state.shuffle == first.shuffle, state.history == first.history,
                state.shard.worldSize == world, state.shard.tail == first.shard.tail
            else {
                throw SluiceError.invalidArgument(
                    "the stream tokens are not from one run of one epoch (dataset, slice, version, seed, epoch and world size must agree)")
            }
            guard counts[state.shard.rank] == nil else {
                throw SluiceError.invalidArgument("two stream tokens of rank \(state.shard.rank)")
            }
            counts[state.shard.rank] = state.delivered
        }
        let missing = counts.indices.filter { counts[$0] == nil }
        guard missing.isEmpty else {
            throw SluiceError.invalidArgument(
                "resuming with another world size needs the tokens of every rank of the run; missing ranks \(missing)")
        }
        return (first, ConsumedRun(worldSize: world, counts: counts.map { $0! }))
    }
}

/// The number of items an epoch has delivered and the bytes its streams received, shared
/// by the epoch and its streams.
final class StreamProgress: Sendable {
    private let delivered: Mutex<Int>
    private let bytes = Mutex(0)

    init(delivered: Int) {
        self.delivered = Mutex(delivered)
    }

    var value: Int { delivered.withLock { $0 } }
    var receivedBytes: Int { bytes.withLock { $0 } }

    func advance() { delivered.withLock { $0 += 1 } }
    func received(_ count: Int) { bytes.withLock { $0 += count } }
}
