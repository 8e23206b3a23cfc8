import SluiceModel

/// Materialised slices: the dataset positions a query selects, by (dataset, version,
/// canonical query, tag revision), so count, position and range on a slice are array look-ups.
///
/// Bounded by the total number of positions held (least recently used first out). A write
/// to a dataset advances its version, and a tag write its project's tag revision, so stale
/// lists are never served; they age out.
actor SliceCache {
    struct Key: Hashable {
        var datasetID: Int64
        var version: Int64
        var query: String
        /// The project's tag revision for a query that tests `dataset.tag` (tags are no part
        /// of a dataset's version); 0 for every other query, whose lists tag writes leave be.
        var tagsRevision: Int64 = 0
    }

    private var entries: [Key: (positions: [Int], lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    private var held = 0
    /// Most positions kept in all (8 bytes each).
    let capacity: Int

    /// Where hits and misses are counted (`/metrics`).
    let metrics: ServerMetrics?

    init(capacity: Int = 50_000_000, metrics: ServerMetrics? = nil) {
        self.capacity = capacity
        self.metrics = metrics
    }

    /// The cached positions, or those `materialise` computes (then cached).
    func positions(for key: Key, materialise: @Sendable () async throws -> [Int]) async throws -> [Int] {
        clock += 1
        if let entry = entries[key] {
            entries[key] = (entry.positions, clock)
            metrics?.recordSliceLookup(hit: true)
            return entry.positions
        }
        metrics?.recordSliceLookup(hit: false)
        let positions = try await materialise()
        // Another request may have materialised the same key meanwhile (actor reentrancy).
        if entries[key] == nil {
            entries[key] = (positions, clock)
            held += positions.count
            evict()
        }
        return positions
    }

    /// The positions if they are still held: how a stream that started at an older version
    /// goes on reading the slice it started with.
    func cachedPositions(for key: Key) -> [Int]? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entries[key] = (entry.positions, clock)
        return entry.positions
    }

    private func evict() {
        while held > capacity, entries.count > 1,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })
        {
            held -= oldest.value.positions.count
            entries[oldest.key] = nil
        }
    }

    /// Entries held, for tests.
    var count: Int { entries.count }
}
