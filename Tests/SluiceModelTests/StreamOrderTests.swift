import Testing

@testable import SluiceModel

/// Shuffle, shard and resume invariants, checked exhaustively on small counts and by seeded
/// random cases on larger ones.
@Suite struct StreamOrderTests {
    static let counts = [0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 100, 1000, 4097]

    @Test(arguments: counts)
    func feistelIsABijectionWithAnInverse(count: Int) {
        for key: UInt64 in [0, 1, 0xDEAD_BEEF] {
            let permutation = FeistelPermutation(count: count, key: key)
            let image = (0..<count).map { permutation($0) }
            #expect(Set(image).count == count)
            #expect(image.allSatisfy { (0..<count).contains($0) })
            #expect((0..<count).allSatisfy { permutation.index(of: permutation($0)) == $0 })
        }
    }

    @Test(arguments: [0, 1, 3, 8, 64, 5000])
    func shuffledOrderIsAPermutation(blockSize: Int) {
        for count in Self.counts {
            let order = ShuffledOrder(count: count, shuffle: Shuffle(seed: 9, epoch: 1, blockSize: blockSize))
            #expect(Set((0..<count).map { order($0) }) == Set(0..<count), "count \(count)")
        }
    }

    @Test func sameSeedAndEpochGiveTheSameOrderAndOtherEpochsAnother() throws {
        func sequence(seed: UInt64, epoch: Int) throws -> [Int] {
            let order = try StreamOrder(count: 1000, shuffle: Shuffle(seed: seed, epoch: epoch))
            return order.positions(0..<order.length)
        }
        #expect(try sequence(seed: 1, epoch: 0) == sequence(seed: 1, epoch: 0))
        #expect(try sequence(seed: 1, epoch: 0) != sequence(seed: 1, epoch: 1))
        #expect(try sequence(seed: 1, epoch: 0) != sequence(seed: 2, epoch: 0))
        #expect(try sequence(seed: 1, epoch: 0) != Array(0..<1000))
        // Pinned values: a change of the algorithm breaks every saved stream token.
        let pinned = try Array(sequence(seed: 42, epoch: 3).prefix(8))
        #expect(pinned == [577, 206, 22, 564, 375, 716, 724, 159])
    }

    @Test func fullShuffleSpreadsEveryPartOfTheDataset() throws {
        let order = try StreamOrder(count: 10_000, shuffle: Shuffle(seed: 5))
        // The first tenth of the epoch draws from every tenth of the dataset about equally.
        var deciles = [Int](repeating: 0, count: 10)
        for position in order.positions(0..<1000) { deciles[position / 1000] += 1 }
        #expect(deciles.allSatisfy { (50...150).contains($0) }, "\(deciles)")
        // Neighbours in the order are rarely neighbours in the dataset.
        let sequence = order.positions(0..<order.length)
        let close = zip(sequence, sequence.dropFirst()).filter { abs($0 - $1) < 10 }.count
        #expect(close < 50, "\(close) close neighbours")
    }

    @Test func blockShuffleKeepsNeighboursTogether() throws {
        let order = try StreamOrder(count: 10_000, shuffle: Shuffle(seed: 5, blockSize: 100))
        let sequence = order.positions(0..<order.length)
        for start in stride(from: 0, to: 10_000, by: 100) {
            let blocks = Set(sequence[start..<(start + 100)].map { $0 / 100 })
            #expect(blocks.count == 1, "indices \(start)..<\(start + 100) span blocks \(blocks)")
        }
        #expect(Array(sequence.prefix(100)) != Array(sequence.prefix(100)).sorted(), "a block's own order is shuffled")
        #expect(Set(sequence.prefix(3000).map { $0 / 1000 }).count == 10, "blocks come from everywhere")
    }

    @Test(arguments: ShardTail.allCases)
    func shardsAreDisjointNearEqualAndCoverEverything(tail: ShardTail) throws {
        for count in Self.counts {
            for world in [1, 2, 3, 4, 7] {
                let shards = try (0..<world).map { rank in
                    let order = try StreamOrder(
                        count: count, shuffle: Shuffle(seed: 3), shard: Shard(rank: rank, worldSize: world, tail: tail))
                    return order.positions(0..<order.length)
                }
                let lengths = shards.map(\.count)
                let all = shards.flatMap { $0 }
                switch tail {
                case .keep:
                    #expect(all.sorted() == Array(0..<count))
                    #expect(lengths.max()! - lengths.min()! <= 1)
                case .drop:
                    #expect(Set(all).count == all.count)
                    #expect(Set(lengths) == [count / world])
                    #expect(count - all.count < world)
                case .pad:
                    #expect(Set(all) == Set(0..<count))
                    #expect(Set(lengths) == [(count + world - 1) / world])
                }
            }
        }
    }

    @Test func workerSubshardsSplitTheirRank() throws {
        let shuffle = Shuffle(seed: 11, epoch: 2)
        let rank = try StreamOrder(count: 1003, shuffle: shuffle, shard: Shard(rank: 1, worldSize: 4))
        let rankItems = rank.positions(0..<rank.length)
        for worker in 0..<3 {
            let order = try StreamOrder(count: 1003, shuffle: shuffle, shard: rank.shard.subshard(worker: worker, of: 3))
            let expected = stride(from: worker, to: rankItems.count, by: 3).map { rankItems[$0] }
            #expect(order.positions(0..<order.length) == expected)
        }
    }

    /// Runs of random world sizes stop at random points; each later run continues from all the
    /// earlier ones. Over the whole epoch every position is delivered exactly once.
    @Test(arguments: 0..<40)
    func elasticResumeDeliversEveryItemOnce(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let count = Int(random.next() % 3000)
        let shuffle = Shuffle(seed: random.next(), epoch: 1, blockSize: random.pick([0, 0, 16]))
        var history: [ConsumedRun] = []
        var delivered: [Int] = []
        for run in 0..<4 {
            let world = Int(random.next() % 6) + 1
            let last = run == 3
            var counts: [Int] = []
            for rank in 0..<world {
                let order = try StreamOrder(
                    count: count, shuffle: shuffle, shard: Shard(rank: rank, worldSize: world), history: history)
                // Near-equal progress usually; sometimes a rank that died early.
                let stop =
                    last ? order.length
                    : random.next() % 4 == 0 ? Int(random.next() % UInt64(order.length + 1))
                    : max(0, order.length / 2 - Int(random.next() % 3))
                delivered += order.positions(0..<stop)
                counts.append(stop)
            }
            history.append(ConsumedRun(worldSize: world, counts: counts))
        }
        #expect(delivered.sorted() == Array(0..<count))
    }

    @Test func parametersRoundTrip() throws {
        let order = try StreamOrder(
            count: 500, shuffle: Shuffle(seed: UInt64.max, epoch: 4, blockSize: 32),
            shard: Shard(rank: 2, worldSize: 3, tail: .pad),
            history: [ConsumedRun(worldSize: 4, counts: [10, 11, 10, 9]), ConsumedRun(worldSize: 1, counts: [7])])
        let parameters = Dictionary(uniqueKeysWithValues: order.parameters.map { ($0.name, $0.value) })
        #expect(parameters["consumed"] == "4:10,11,10,9;1:7")
        #expect(try StreamOrder(parameters: parameters, defaultCount: 0) == order)
        #expect(try StreamOrder(parameters: [:], defaultCount: 12) == StreamOrder(count: 12))
    }

    @Test(arguments: [
        (["rank": "4", "world_size": "4"], "rank"),
        (["world_size": "0"], "world_size"),
        (["seed": "-1"], "seed"),
        (["epoch": "1"], "seed"),
        (["count": "x"], "count"),
        (["count": "-3"], "count"),
        (["tail": "wrap"], "tail"),
        (["consumed": "2:1"], "consumed"),
        (["consumed": "2:1,a"], "consumed"),
        (["consumed": "2:1,900"], "consumed"),
        (["consumed": "oops"], "consumed"),
    ])
    func badParametersNameTheParameter(parameters: [String: String], parameter: String) {
        #expect(throws: StreamOrderError.self) { try StreamOrder(parameters: parameters, defaultCount: 100) }
        do {
            _ = try StreamOrder(parameters: parameters, defaultCount: 100)
        } catch {
            #expect(error.parameter == parameter, "\(error)")
        }
    }

    @Test func aCountPastTheMaximumIsRefusedBeforeTheShuffleIsBuilt() throws {
        // Near Int.max the shuffle's arithmetic would not finish; the bound stops it first.
        for count in ["101", "9223372036854775806"] {
            #expect(throws: StreamOrderError(parameter: "count", message: "the epoch's \(count) items exceed the 100 there are")) {
                try StreamOrder(parameters: ["count": count, "seed": "1"], defaultCount: 100, maximumCount: 100)
            }
        }
        #expect(try StreamOrder(parameters: ["count": "100"], defaultCount: 100, maximumCount: 100).count == 100)
    }
}
