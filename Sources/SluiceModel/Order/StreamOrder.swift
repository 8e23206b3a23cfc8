/// A deterministic shuffle of an epoch: equal seeds and epochs give equal orders on every
/// machine; another epoch gives another order.
public struct Shuffle: Sendable, Hashable, Codable {
    public var seed: UInt64
    public var epoch: Int
    /// 0: one permutation of all positions. B > 0: blocks of B neighbours, see `ShuffledOrder`.
    public var blockSize: Int

    public init(seed: UInt64, epoch: Int = 0, blockSize: Int = 0) {
        self.seed = seed
        self.epoch = epoch
        self.blockSize = max(0, blockSize)
    }

    enum CodingKeys: String, CodingKey {
        case seed, epoch
        case blockSize = "block_size"
    }
}

/// What ranks do with the items left over when the count does not divide by the world size.
public enum ShardTail: String, Sendable, Hashable, Codable, CaseIterable {
    /// Shards differ by at most one item; every item once.
    case keep
    /// Every shard has ⌊n / world size⌋ items; up to world size − 1 items are left out.
    case drop
    /// Every shard has ⌈n / world size⌉ items; the short ones repeat items from the start,
    /// as PyTorch's `DistributedSampler` does.
    case pad
}

/// One part of the items out of `worldSize` disjoint parts whose union is all of them.
///
/// Parts are strided (rank r takes the r-th of every `worldSize` items of the order), so a
/// rank's items are spread over the whole epoch, and the parts of ranks that consumed
/// equally many items cover one prefix of the order: what elastic resumption builds on.
public struct Shard: Sendable, Hashable, Codable {
    public var rank: Int
    public var worldSize: Int
    public var tail: ShardTail

    public init(rank: Int = 0, worldSize: Int = 1, tail: ShardTail = .keep) {
        self.rank = rank
        self.worldSize = worldSize
        self.tail = tail
    }

    public static let whole = Shard()

    /// Worker `worker` of `workers` inside this rank, as one shard of the flattened world:
    /// the worker's items are the ones it would get from splitting this rank's items again.
    public func subshard(worker: Int, of workers: Int) -> Shard {
        Shard(rank: worker * worldSize + rank, worldSize: worldSize * workers, tail: tail)
    }

    enum CodingKeys: String, CodingKey {
        case rank, tail
        case worldSize = "world_size"
    }
}

/// How far each rank of an earlier run of the same epoch got: the run's world size and the
/// number of items each rank consumed from its shard.
public struct ConsumedRun: Sendable, Hashable, Codable {
    public var worldSize: Int
    public var counts: [Int]

    public init(worldSize: Int, counts: [Int]) {
        self.worldSize = worldSize
        self.counts = counts
    }

    enum CodingKeys: String, CodingKey {
        case counts
        case worldSize = "world_size"
    }
}

/// Errors in an order's description, reported to the user as is.
public struct StreamOrderError: Error, Hashable, CustomStringConvertible {
    public var parameter: String
    public var message: String
    /// The parameter is not written as its syntax says (HTTP 400), rather than well written
    /// but inconsistent with the others or with the dataset (HTTP 422).
    public var isMalformed = false

    public var description: String { "\(parameter): \(message)" }
}

/// The items one consumer reads in one epoch, as a sequence of dataset (or slice) positions:
/// the `count` positions, shuffled or not, minus what earlier runs of the epoch consumed,
/// split into shards.
///
/// Server and client compute the same sequence from the same description, so a stream
/// request names a range of this sequence and a resumed stream names where it stopped. No
/// list of positions is built, except for the items earlier runs left behind unevenly.
public struct StreamOrder: Sendable, Hashable {
    /// The positions `0..<count` of the epoch; later appends are not part of it.
    public let count: Int
    public let shuffle: Shuffle?
    public let shard: Shard
    /// Earlier runs of the epoch, oldest first: what they consumed is not read again.
    public let history: [ConsumedRun]

    private let order: ShuffledOrder?
    private let remaining: RemainingIndices

    public init(count: Int, shuffle: Shuffle? = nil, shard: Shard = .whole, history: [ConsumedRun] = []) throws(StreamOrderError) {
        guard count >= 0 else { throw StreamOrderError(parameter: "count", message: "must not be negative") }
        guard shard.worldSize >= 1 else { throw StreamOrderError(parameter: "world_size", message: "must be at least 1") }
        guard (0..<shard.worldSize).contains(shard.rank) else {
            throw StreamOrderError(parameter: "rank", message: "must be in 0..<\(shard.worldSize), got \(shard.rank)")
        }
        if let shuffle, shuffle.blockSize < 0 {
            throw StreamOrderError(parameter: "block_size", message: "must not be negative")
        }
        self.count = count
        self.shuffle = shuffle
        self.shard = shard
        self.history = history
        order = shuffle.map { ShuffledOrder(count: count, shuffle: $0) }
        var remaining = RemainingIndices(count: count)
        for run in history { remaining = try remaining.consuming(run) }
        self.remaining = remaining
    }

    /// The number of items of this shard in the epoch (what is left of it, after a history).
    public var length: Int {
        let total = remaining.count
        let world = shard.worldSize
        switch shard.tail {
        case .keep: return divideRoundingUp(max(0, total - shard.rank), world)
        case .drop: return total / world
        case .pad: return divideRoundingUp(total, world)
        }
    }

    /// The dataset (or slice) position of the `index`-th item of this shard.
    public func position(at index: Int) -> Int {
        precondition(index >= 0 && index < length, "index \(index) outside 0..<\(length)")
        let total = remaining.count
        let element = remaining[(index * shard.worldSize + shard.rank) % total]
        return order.map { $0(element) } ?? element
    }

    /// The positions of `range` of this shard, in order.
    public func positions(_ range: Range<Int>) -> [Int] {
        range.map(position(at:))
    }

    /// This order for every rank of a new run that continues after `run`.
    public func continuing(after run: ConsumedRun, shard: Shard) throws(StreamOrderError) -> StreamOrder {
        try StreamOrder(count: count, shuffle: shuffle, shard: shard, history: history + [run])
    }
}

/// The indices `0..<count` of the epoch's order not yet consumed, in order: an explicit list
/// (the uneven band earlier runs left) followed by a contiguous tail.
struct RemainingIndices: Sendable, Hashable {
    let count: Int
    private let band: [Int]
    private let tailStart: Int
    private let total: Int

    init(count: Int) {
        self.init(band: [], tailStart: 0, total: count)
    }

    private init(band: [Int], tailStart: Int, total: Int) {
        self.band = band
        self.tailStart = tailStart
        self.total = total
        count = band.count + total - tailStart
    }

    subscript(index: Int) -> Int {
        index < band.count ? band[index] : tailStart + index - band.count
    }

    /// What is left after a run whose rank r consumed `counts[r]` items of its strided shard.
    ///
    /// Indices below `min(counts) × world` were all consumed and those from
    /// `max(counts) × world` on were not; only the band between needs a list, and it is as
    /// long as the ranks were uneven when they stopped.
    func consuming(_ run: ConsumedRun) throws(StreamOrderError) -> RemainingIndices {
        let world = run.worldSize
        guard world >= 1, run.counts.count == world else {
            throw StreamOrderError(
                parameter: "consumed", message: "a run of world size \(world) needs \(world) counts, got \(run.counts.count)")
        }
        let ceiling = divideRoundingUp(count, world)
        guard let low = run.counts.min(), let high = run.counts.max(), low >= 0, high <= ceiling else {
            throw StreamOrderError(
                parameter: "consumed", message: "counts must be in 0...\(ceiling) for \(count) items over \(world) ranks")
        }
        let bandStart = min(low * world, count)
        let bandEnd = min(high * world, count)
        var band: [Int] = []
        band.reserveCapacity(bandEnd - bandStart + max(0, self.band.count - bandEnd))
        for index in bandStart..<bandEnd where index / world >= run.counts[index % world] {
            band.append(self[index])
        }
        if bandEnd < self.band.count {
            band.append(contentsOf: self.band[bandEnd...])
            return RemainingIndices(band: band, tailStart: tailStart, total: total)
        }
        return RemainingIndices(band: band, tailStart: tailStart + bandEnd - self.band.count, total: total)
    }
}

/// `⌈a / b⌉` for `a ≥ 0`, `b > 0`, without `a + b - 1` overflowing near `Int.max` (a
/// stranger's world size, block size or page size).
public func divideRoundingUp(_ a: Int, _ b: Int) -> Int {
    a / b + (a % b == 0 ? 0 : 1)
}
