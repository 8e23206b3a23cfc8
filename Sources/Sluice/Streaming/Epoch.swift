/// One pass over a dataset or slice for training: which items, in which order, for which
/// rank, and how far it got.
///
///     let epoch = try await dataset.epoch()
///         .shuffled(seed: 7, epoch: 3)
///         .sharded(rank: rank, worldSize: worldSize)
///     for try await item in epoch.items(prefetch: 8) { … }
///     let token = epoch.state.token       // later: try await project.resume(token)
///
/// The order is computed, not listed (`StreamOrder`): the server streams ranges of it. The
/// epoch covers the `count` positions there were when it was made; later appends wait for
/// the next epoch. `items()` starts at the first item not yet delivered, so a loop left with
/// `break` continues where it stopped.
public struct Epoch: Sendable {
    let connection: Connection
    let route: String
    public let datasetID: Int64
    /// The slice's server id, for an epoch over a slice.
    public let sliceID: String?
    /// The dataset version the epoch started at.
    public let version: Int64
    /// Whether a dataset epoch reads at `version` (a pinned handle's) rather than now.
    let pinned: Bool
    public let order: StreamOrder
    let progress: StreamProgress

    /// The number of items this epoch delivers to this rank.
    public var length: Int { order.length }
    /// Items delivered so far.
    public var delivered: Int { progress.value }
    /// Bytes received by this epoch's streams in this process (wire bytes, media included).
    public var receivedBytes: Int { progress.receivedBytes }

    /// Where the epoch stands, to save as `state.token` and resume from.
    public var state: StreamState {
        StreamState(
            datasetID: datasetID, sliceID: sliceID, version: version, pinned: pinned, order: order, delivered: delivered)
    }

    init(
        connection: Connection, datasetID: Int64, sliceID: String?, version: Int64, pinned: Bool = false,
        order: StreamOrder, delivered: Int = 0
    ) {
        self.connection = connection
        self.route = sliceID.map { "/api/v1/slices/\($0)" } ?? "/api/v1/datasets/\(datasetID)"
        self.datasetID = datasetID
        self.sliceID = sliceID
        self.version = version
        self.pinned = pinned
        self.order = order
        self.progress = StreamProgress(delivered: delivered)
    }

    /// The same items in the shuffled order of `seed` and `epoch`: equal on every machine
    /// for equal arguments. `blockSize` > 0 shuffles blocks of neighbours (faster reads,
    /// weaker mixing; see `ShuffledOrder`).
    public func shuffled(seed: UInt64, epoch: Int = 0, blockSize: Int = 0) throws -> Epoch {
        try reordered(shuffle: Shuffle(seed: seed, epoch: epoch, blockSize: blockSize), shard: order.shard)
    }

    /// This rank's part of the epoch: disjoint from the other ranks', near-equal in length,
    /// the union of all of them the whole epoch. `tail` decides what happens to the items
    /// left over when the count does not divide by `worldSize`.
    public func sharded(rank: Int, worldSize: Int, tail: ShardTail = .keep) throws -> Epoch {
        try reordered(shuffle: order.shuffle, shard: Shard(rank: rank, worldSize: worldSize, tail: tail))
    }

    /// Worker `worker`'s part of this rank's items, for data-loader workers of one process.
    public func forWorker(_ worker: Int, of workers: Int) throws -> Epoch {
        guard workers >= 1, (0..<workers).contains(worker) else {
            throw SluiceError.invalidArgument("worker must be in 0..<\(workers), got \(worker)")
        }
        return try reordered(shuffle: order.shuffle, shard: order.shard.subshard(worker: worker, of: workers))
    }

    private func reordered(shuffle: Shuffle?, shard: Shard) throws -> Epoch {
        guard delivered == 0, order.history.isEmpty else {
            throw SluiceError.invalidArgument("the order of an epoch that has begun cannot change")
        }
        do {
            let order = try StreamOrder(count: order.count, shuffle: shuffle, shard: shard)
            return Epoch(
                connection: connection, datasetID: datasetID, sliceID: sliceID, version: version, pinned: pinned,
                order: order)
        } catch {
            throw SluiceError.invalidArgument("\(error)")
        }
    }

    /// The items not yet delivered, in order, with `prefetch` range requests of `rangeSize`
    /// items in flight. A broken transfer resumes at the first item not received.
    public func items(prefetch: Int = 4, rangeSize: Int = 256) -> ItemStream {
        let (epoch, indices) = (self, delivered..<length)
        return ItemStream(
            plan: { (try await epoch.fetch(Item.self), indices) }, prefetch: prefetch, rangeSize: rangeSize,
            progress: progress)
    }

    /// The items not yet delivered with their media bytes, as `items(prefetch:rangeSize:)`.
    public func itemsWithMedia(prefetch: Int = 4, rangeSize: Int = 64) -> MediaStream {
        let (epoch, indices) = (self, delivered..<length)
        return MediaStream(
            plan: { (try await epoch.fetch(StreamedItem.self), indices) }, prefetch: prefetch, rangeSize: rangeSize,
            progress: progress)
    }

    /// The items not yet delivered as tensor records (`ItemTensors` reads the standard keys
    /// of one; `image` holds the media bytes), as `items(prefetch:rangeSize:)`.
    public func tensors(prefetch: Int = 4, rangeSize: Int = 64) -> TensorStream {
        let (epoch, indices) = (self, delivered..<length)
        return TensorStream(
            plan: { (try await epoch.fetch(TensorRecord.self), indices) }, prefetch: prefetch, rangeSize: rangeSize,
            progress: progress)
    }

    /// How the stream gets ranges of elements: through the local cache when the client has one.
    func fetch<Element: StreamElement>(_: Element.Type) async throws -> EpochStream<Element>.Fetch {
        if let cache = connection.configuration.cache {
            let cached = try await CachedFetcher.open(self, cache: cache)
            return { try await cached.fetch($0) }
        }
        let fetcher = self.fetcher()
        return { try await fetcher.fetch($0) }
    }

    func fetcher() -> RangeFetcher {
        RangeFetcher(
            connection: connection, route: route, order: order, version: sliceID == nil && !pinned ? nil : version,
            progress: progress)
    }
}

extension EpochStream where Element: StreamElement {
    /// The elements of `range` (clipped to the count), or all, of the epoch `start` makes
    /// when iteration begins, in order.
    static func inOrder(
        prefetch: Int, rangeSize: Int, range: Range<Int>?, start: @escaping @Sendable () async throws -> Epoch
    ) -> EpochStream {
        EpochStream(
            plan: {
                let epoch = try await start()
                let all = 0..<epoch.length
                return (try await epoch.fetch(Element.self), range?.clamped(to: all) ?? all)
            }, prefetch: prefetch, rangeSize: rangeSize, progress: nil)
    }
}

extension Dataset {
    /// An epoch over the dataset's items now, in position order until shuffled or sharded.
    public func epoch() async throws -> Epoch {
        if let pinnedVersion {
            // A pinned dataset reads its version's items, whatever is written meanwhile.
            return Epoch(
                connection: connection, datasetID: id, sliceID: nil, version: pinnedVersion, pinned: true,
                order: try StreamOrder(count: try await count))
        }
        let info: SluiceModel.Dataset = try await connection.get("/api/v1/datasets/\(id)")
        return Epoch(
            connection: connection, datasetID: id, sliceID: nil, version: info.version,
            order: try StreamOrder(count: info.count))
    }
}

extension Slice {
    /// An epoch over the slice's items at the dataset's current version.
    public func epoch() async throws -> Epoch {
        let info: SliceInfo = try await connection.get("/api/v1/slices/\(id)")
        return Epoch(
            connection: connection, datasetID: datasetID, sliceID: id, version: info.version,
            order: try StreamOrder(count: info.count))
    }
}

extension Project {
    /// The epoch a token was saved from, continuing after its last delivered item.
    public func resume(_ token: String) async throws -> Epoch {
        try await resume([token])
    }

    /// Continues an epoch from the tokens of a stopped run, as rank `shard.rank` of a run of
    /// `shard.worldSize` ranks: the items no rank of the stopped run delivered are split
    /// among the new ranks, each delivered once.
    ///
    /// With the same world size, a rank may pass its own token alone. With another one, every
    /// rank passes the tokens of all ranks of the stopped run.
    public func resume(_ tokens: [String], as shard: Shard? = nil) async throws -> Epoch {
        let states = try tokens.map { try StreamState(token: $0) }
        if states.count == 1, let state = states.first, shard == nil || shard == state.shard {
            return Epoch(
                connection: connection, datasetID: state.datasetID, sliceID: state.sliceID, version: state.version,
                pinned: state.pinned ?? false, order: try state.order, delivered: state.delivered)
        }
        guard let shard else {
            throw SluiceError.invalidArgument("resuming from several tokens needs the new rank and world size")
        }
        let (epoch, run) = try StreamState.merged(states)
        do {
            let order = try epoch.order.continuing(after: run, shard: shard)
            return Epoch(
                connection: connection, datasetID: epoch.datasetID, sliceID: epoch.sliceID, version: epoch.version,
                pinned: epoch.pinned ?? false, order: order)
        } catch {
            throw SluiceError.invalidArgument("\(error)")
        }
    }
}
