import NIOCore
import SluiceModel

/// Fetches ranges of an epoch's order through the local cache: positions whose file and
/// revision the manifest knows and whose entry is on disk (and intact) need no request; the
/// rest are fetched, in runs of adjacent indices, and stored.
struct CachedFetcher: Sendable {
    let fetcher: RangeFetcher
    let cache: LocalCache
    let manifest: CacheManifest

    /// The fetcher of `epoch`, after bringing its manifest up to date: a dataset's through its
    /// change feed (positions changed since the manifest's cursor are voided); a slice's or a
    /// pinned dataset's is per version, so it cannot go stale. Offline, the manifest is taken
    /// as it is.
    static func open(_ epoch: Epoch, cache: LocalCache) async throws -> CachedFetcher {
        let live = epoch.sliceID == nil && !epoch.pinned
        let name =
            if let slice = epoch.sliceID { "slice-\(slice)-v\(epoch.version)" }
            else if live { "dataset-\(epoch.datasetID)" }
            else { "dataset-\(epoch.datasetID)-v\(epoch.version)" }
        let manifest = try cache.manifest(name)
        if !cache.offline, live {
            try await catchUp(manifest, datasetID: epoch.datasetID, connection: epoch.connection)
        }
        return CachedFetcher(fetcher: epoch.fetcher(), cache: cache, manifest: manifest)
    }

    /// Reads the change feed from the manifest's cursor to its end. A new manifest takes the
    /// feed's current end, read before any item, so a change made while the first epoch
    /// streams is found by the next.
    private static func catchUp(_ manifest: CacheManifest, datasetID: Int64, connection: Connection) async throws {
        let route = "/api/v1/datasets/\(datasetID)/changes?wait=0&limit=10000"
        guard var cursor = manifest.cursor else {
            let page: ChangePage = try await connection.get(route)
            try manifest.advance(to: page.cursor, changed: [])
            return
        }
        while true {
            let page: ChangePage = try await connection.get(route + "&since=\(cursor)")
            if page.changes.isEmpty { return }
            try manifest.advance(to: page.cursor, changed: page.changes.filter { $0.kind != .added }.map(\.positions))
            cursor = page.cursor
        }
    }

    func fetch<Element: StreamElement>(_ range: Range<Int>, as _: Element.Type = Element.self) async throws -> [Element] {
        let positions = fetcher.order.positions(range)
        var found: [Element?] = Array(repeating: nil, count: range.count)
        var missing: [Int] = []
        for (offset, position) in positions.enumerated() {
            if let entry = manifest.entry(at: position),
                let bytes = cache.read(Self.key(Element.cacheFormat, entry.fileID, entry.revision)),
                let element = Self.decode(Element.self, bytes)
            {
                found[offset] = element
            } else {
                missing.append(offset)
            }
        }
        for run in Self.runs(missing) {
            if cache.offline {
                throw SluiceError.notCached("the item at position \(positions[run.lowerBound])")
            }
            let fetched: [(Element, ByteBuffer)] = try await fetcher.fetchWithBytes(
                (range.lowerBound + run.lowerBound)..<(range.lowerBound + run.upperBound))
            var seen: [(position: Int, fileID: Int64, revision: Int64)] = []
            for (index, (element, bytes)) in zip(run, fetched) {
                found[index] = element
                guard let identity = element.cacheIdentity else { continue }
                try cache.write(Self.key(Element.cacheFormat, identity.fileID, identity.revision), bytes)
                seen.append((positions[index], identity.fileID, identity.revision))
            }
            try manifest.record(seen)
        }
        return found.map { $0! }
    }

    static func key(_ format: String, _ fileID: Int64, _ revision: Int64) -> String {
        "\(format)-\(fileID)-\(revision)"
    }

    private static func decode<Element: StreamElement>(_: Element.Type, _ bytes: ByteBuffer) -> Element? {
        var buffer = bytes
        return try? Element.next(from: &buffer)
    }

    /// Ascending offsets grouped into runs of neighbours.
    static func runs(_ offsets: [Int]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        for offset in offsets {
            if let last = runs.last, last.upperBound == offset {
                runs[runs.count - 1] = last.lowerBound..<(offset + 1)
            } else {
                runs.append(offset..<(offset + 1))
            }
        }
        return runs
    }
}
