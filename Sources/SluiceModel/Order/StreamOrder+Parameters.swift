/// The order as URL query parameters: what a stream request carries, so that the server
/// computes the same sequence as the client.
///
///     count=100000&seed=7&epoch=2&block_size=0&rank=1&world_size=4&tail=keep&consumed=4:310,309,311,310
///
/// `consumed` lists earlier runs of the epoch, oldest first, `;`-separated, each as
/// `world size:count of rank 0,count of rank 1,…`.
extension StreamOrder {
    public var parameters: [(name: String, value: String)] {
        var list: [(String, String)] = [("count", String(count))]
        if let shuffle {
            list += [("seed", String(shuffle.seed)), ("epoch", String(shuffle.epoch))]
            if shuffle.blockSize > 0 { list.append(("block_size", String(shuffle.blockSize))) }
        }
        if shard != .whole {
            list += [("rank", String(shard.rank)), ("world_size", String(shard.worldSize))]
            if shard.tail != .keep { list.append(("tail", shard.tail.rawValue)) }
        }
        if !history.isEmpty { list.append(("consumed", Self.format(history))) }
        return list
    }

    /// Reads the parameters `parameters` describes; `count` defaults to `defaultCount` (the
    /// dataset's count now). Throws naming the parameter at fault.
    ///
    /// With `maximumCount`, a larger `count` is refused before anything is computed from it
    /// (an epoch cannot cover more items than there are, and a stranger's count near
    /// `Int.max` must not reach the shuffle's arithmetic).
    public init(parameters: [String: String], defaultCount: Int, maximumCount: Int? = nil) throws(StreamOrderError) {
        func integer(_ name: String, _ fallback: Int) throws(StreamOrderError) -> Int {
            guard let text = parameters[name] else { return fallback }
            guard let value = Int(text) else {
                throw StreamOrderError(parameter: name, message: "expected an integer, got '\(text)'", isMalformed: true)
            }
            return value
        }
        let count = try integer("count", defaultCount)
        if let maximumCount, count > maximumCount {
            throw StreamOrderError(parameter: "count", message: "the epoch's \(count) items exceed the \(maximumCount) there are")
        }
        var shuffle: Shuffle?
        if let text = parameters["seed"] {
            guard let seed = UInt64(text) else {
                throw StreamOrderError(parameter: "seed", message: "expected an unsigned 64-bit integer, got '\(text)'",
                    isMalformed: true)
            }
            shuffle = Shuffle(seed: seed, epoch: try integer("epoch", 0), blockSize: try integer("block_size", 0))
        } else if parameters["epoch"] != nil || parameters["block_size"] != nil {
            throw StreamOrderError(parameter: "seed", message: "epoch and block_size need a seed")
        }
        let tailText = parameters["tail"] ?? ShardTail.keep.rawValue
        guard let tail = ShardTail(rawValue: tailText) else {
            throw StreamOrderError(parameter: "tail", message: "expected keep, drop or pad, got '\(tailText)'", isMalformed: true)
        }
        let shard = Shard(rank: try integer("rank", 0), worldSize: try integer("world_size", 1), tail: tail)
        let history = try parameters["consumed"].map { text throws(StreamOrderError) in try Self.parseHistory(text) } ?? []
        try self.init(count: count, shuffle: shuffle, shard: shard, history: history)
    }

    static func format(_ history: [ConsumedRun]) -> String {
        history.map { run in "\(run.worldSize):" + run.counts.map(String.init).joined(separator: ",") }
            .joined(separator: ";")
    }

    static func parseHistory(_ text: String) throws(StreamOrderError) -> [ConsumedRun] {
        var runs: [ConsumedRun] = []
        for part in text.split(separator: ";", omittingEmptySubsequences: false) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2, let world = Int(fields[0]), world >= 1 else {
                throw StreamOrderError(
                    parameter: "consumed", message: "expected 'world size:count,count,…' per run, got '\(part)'",
                    isMalformed: true)
            }
            var counts: [Int] = []
            for field in fields[1].split(separator: ",", omittingEmptySubsequences: false) {
                guard let count = Int(field) else {
                    throw StreamOrderError(parameter: "consumed", message: "expected an integer count, got '\(field)'", isMalformed: true)
                }
                counts.append(count)
            }
            runs.append(ConsumedRun(worldSize: world, counts: counts))
        }
        return runs
    }
}
