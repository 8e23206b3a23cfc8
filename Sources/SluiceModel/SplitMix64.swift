/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same on every platform, so a
/// seed gives the same generated dataset or test cases everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// One element of a non-empty list.
    public mutating func pick<T>(_ list: [T]) -> T { list[Int(next() % UInt64(list.count))] }
}
