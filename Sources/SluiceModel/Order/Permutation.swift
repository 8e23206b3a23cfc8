/// A pseudo-random permutation of `0..<count`, computed one index at a time: the shuffled
/// order of an epoch without a list of `count` entries anywhere.
///
/// A balanced Feistel network over the smallest even number of bits that holds `count`, with
/// cycle-walking (Black and Rogaway, "Ciphers with Arbitrary Finite Domains", 2002): indices
/// that land past `count` are encrypted again until they fall inside. The domain is under
/// 4 × `count`, so a look-up takes fewer than four rounds of the network on average. Six
/// rounds with SplitMix64's finaliser as the round function: Luby and Rackoff show four
/// rounds of random functions already give a pseudo-random permutation.
public struct FeistelPermutation: Sendable, Hashable {
    public let count: Int
    private let halfBits: Int
    /// The round keys (six of the eight lanes): inline storage, so a permutation made per
    /// look-up allocates nothing.
    private let keys: SIMD8<UInt64>

    static let rounds = 6

    /// - Parameter key: any 64 bits; equal keys give equal permutations on every machine.
    public init(count: Int, key: UInt64) {
        precondition(count >= 0, "a permutation of a negative count")
        self.count = count
        var bits = 2
        while bits < 62, (1 << bits) < count { bits += 2 }
        halfBits = bits / 2
        var generator = SplitMix64(seed: key)
        var keys = SIMD8<UInt64>()
        for round in 0..<Self.rounds { keys[round] = generator.next() }
        self.keys = keys
    }

    /// The element at `index` of the permuted order, for `0 <= index < count`.
    public func callAsFunction(_ index: Int) -> Int {
        precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
        guard count > 1 else { return index }
        var value = UInt64(index)
        repeat { value = encrypt(value) } while value >= UInt64(count)
        return Int(value)
    }

    /// The index whose element is `element`: the inverse permutation.
    public func index(of element: Int) -> Int {
        precondition(element >= 0 && element < count, "element \(element) outside 0..<\(count)")
        guard count > 1 else { return element }
        var value = UInt64(element)
        repeat { value = decrypt(value) } while value >= UInt64(count)
        return Int(value)
    }

    private var mask: UInt64 { (UInt64(1) << UInt64(halfBits)) - 1 }

    private func encrypt(_ value: UInt64) -> UInt64 {
        var left = value >> UInt64(halfBits)
        var right = value & mask
        for round in 0..<Self.rounds {
            (left, right) = (right, left ^ (Self.mix(right ^ keys[round]) & mask))
        }
        return (left << UInt64(halfBits)) | right
    }

    private func decrypt(_ value: UInt64) -> UInt64 {
        var left = value >> UInt64(halfBits)
        var right = value & mask
        for round in (0..<Self.rounds).reversed() {
            (left, right) = (right ^ (Self.mix(left ^ keys[round]) & mask), left)
        }
        return (left << UInt64(halfBits)) | right
    }

    /// SplitMix64's finaliser: every input bit flips each output bit with probability ~1/2.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An epoch's shuffled order of `0..<count`.
///
/// With `blockSize` 0, one permutation of every position: the best mixing, and reads land
/// anywhere in the dataset. With `blockSize` B, runs of B consecutive positions are permuted
/// as blocks and each block's order is permuted on its own: a stream reads B neighbours
/// together (one range of the store's index, one page of the disk), at the price that a
/// block's members stay close to each other in every epoch.
public struct ShuffledOrder: Sendable, Hashable {
    public let count: Int
    public let shuffle: Shuffle
    private let blocks: FeistelPermutation
    /// Where the one short block (the dataset's last positions) lands in the block order.
    private let shortBlockSlot: Int
    private let shortBlockSize: Int

    public init(count: Int, shuffle: Shuffle) {
        self.count = count
        self.shuffle = shuffle
        let size = shuffle.blockSize > 0 ? shuffle.blockSize : max(count, 1)
        let blockCount = divideRoundingUp(count, size)
        blocks = FeistelPermutation(count: blockCount, key: Self.key(shuffle, block: -1))
        let lastSize = count - (blockCount - 1) * size
        if blockCount > 0, lastSize < size {
            shortBlockSize = lastSize
            shortBlockSlot = blocks.index(of: blockCount - 1)
        } else {
            shortBlockSize = size
            shortBlockSlot = blockCount
        }
    }

    /// The dataset position at `index` of the shuffled order.
    public func callAsFunction(_ index: Int) -> Int {
        precondition(index >= 0 && index < count, "index \(index) outside 0..<\(count)")
        let size = shuffle.blockSize > 0 ? shuffle.blockSize : count
        let slot: Int
        let offset: Int
        let shortStart = shortBlockSlot * size
        if index < shortStart {
            (slot, offset) = (index / size, index % size)
        } else if index < shortStart + shortBlockSize {
            (slot, offset) = (shortBlockSlot, index - shortStart)
        } else {
            let rest = index - shortStart - shortBlockSize
            (slot, offset) = (shortBlockSlot + 1 + rest / size, rest % size)
        }
        let block = blocks(slot)
        let blockLength = min(size, count - block * size)
        let within = FeistelPermutation(count: blockLength, key: Self.key(shuffle, block: block))
        return block * size + within(offset)
    }

    /// The key of one permutation: of the blocks (`block` -1) or of one block's members.
    static func key(_ shuffle: Shuffle, block: Int) -> UInt64 {
        FeistelPermutation.mix(
            FeistelPermutation.mix(shuffle.seed ^ FeistelPermutation.mix(UInt64(bitPattern: Int64(shuffle.epoch))))
                ^ UInt64(bitPattern: Int64(block)))
    }
}
