import SluiceModel
import SluiceStore

/// The items an export reads, in position order: a whole dataset, or the dataset positions
/// of a slice. Read a page at a time, so memory is one page, whatever the dataset's size.
public struct ExportSource: Sendable {
    public var store: any Store
    public var dataset: Dataset
    /// Ascending dataset positions of a slice; nil for the whole dataset.
    public var positions: [Int]?
    /// The version read; nil for the current rows.
    public var version: VersionPoint?
    /// Items per read: one query each, small enough that a page of items is a few megabytes.
    public var pageSize: Int

    public init(
        store: any Store, dataset: Dataset, positions: [Int]? = nil, version: VersionPoint? = nil, pageSize: Int = 512
    ) {
        self.store = store
        self.dataset = dataset
        self.positions = positions
        self.version = version
        self.pageSize = max(1, pageSize)
    }

    /// How many items the export holds: removed positions are not exported (docs/writes.md).
    public var count: Int {
        positions?.count ?? version.map { $0.count - $0.removedCount } ?? (dataset.count - dataset.removedCount)
    }

    /// Positions the export reads through: removed ones are read and skipped.
    var extent: Int { positions?.count ?? version?.count ?? dataset.count }

    /// The version the export shows.
    public var versionNumber: Int64 { version?.version ?? dataset.version }

    /// The dataset as the export shows it: its version, count and removals at the version read,
    /// so that an export of a pinned version is the same bytes whatever is written later.
    public var datasetAsRead: Dataset {
        guard let version else { return dataset }
        var shown = dataset
        shown.version = version.version
        shown.count = version.count
        shown.removedCount = version.removedCount
        return shown
    }

    /// The items of page `index` (`pageSize` items from `index × pageSize`), nil past the end.
    func page(_ index: Int) async throws -> [StoredItem]? {
        let start = index * pageSize
        guard start < extent else { return nil }
        let end = min(extent, start + pageSize)
        switch (positions, version) {
        case (let positions?, let version?):
            return try await store.storedItems(datasetID: dataset.id, positions: Array(positions[start..<end]), at: version)
        case (let positions?, nil):
            return try await store.storedItems(datasetID: dataset.id, positions: Array(positions[start..<end]))
        case (nil, let version?):
            return try await store.storedItems(datasetID: dataset.id, range: start..<end, at: version)
        case (nil, nil):
            return try await store.storedItems(datasetID: dataset.id, range: start..<end)
        }
    }

    /// Calls `body` with every page in order; the next page is read while `body` runs.
    func forEachPage(_ body: ([StoredItem]) async throws -> Void) async throws {
        var index = 0
        var current = try await page(0)
        while let items = current {
            try Task.checkCancellation()
            index += 1
            let following = index
            async let next = page(following)
            try await body(items.filter { !$0.isRemoved })
            current = try await next
        }
    }
}
