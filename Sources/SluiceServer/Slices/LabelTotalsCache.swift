import SluiceModel

/// Label histograms already counted, by dataset version and slice: a million-file dataset's
/// histogram joins millions of label-count rows, and the web page asks for it on every visit.
/// Only ids and numbers are kept; names and colours change without a new version and are
/// read per request.
///
/// Keys carry the dataset's version (and a slice's tag revision), so a write is never
/// answered with totals from before it; entries of old versions age out, least recently used
/// first.
actor LabelTotalsCache {
    enum Key: Hashable {
        case dataset(id: Int64, version: Int64)
        case slice(SliceCache.Key)
    }

    private var entries: [Key: (totals: LabelTallies, lastUse: UInt64)] = [:]
    /// Countings under way: a second request for the same key waits for the first one's
    /// instead of starting another pass over the same rows.
    private var counting: [Key: Task<(LabelTallies, keep: Bool), any Error>] = [:]
    private var clock: UInt64 = 0
    /// Entries kept; each is a few bytes per label.
    let capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// The cached totals, or those `count` computes: cached unless it says they may belong to
    /// a later version than the key's (a write landed while counting).
    func totals(for key: Key, count: @escaping @Sendable () async throws -> (LabelTallies, keep: Bool)) async throws
        -> LabelTallies
    {
        clock += 1
        if let entry = entries[key] {
            entries[key] = (entry.totals, clock)
            return entry.totals
        }
        if let running = counting[key] { return try await running.value.0 }
        let task = Task { try await count() }
        counting[key] = task
        defer { counting[key] = nil }
        let (totals, keep) = try await task.value
        guard keep else { return totals }
        entries[key] = (totals, clock)
        if entries.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
        }
        return totals
    }

    /// Entries held, for tests.
    var count: Int { entries.count }
}
