/// What a change did to the positions it names.
public enum ChangeKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Files appended at positions that did not exist before.
    case added
    /// Items already at these positions changed: their file's fields or their instances.
    case changed
    /// Files removed from the dataset: their positions stay, and read as removed
    /// (docs/writes.md).
    case removed
}

/// One entry of a dataset's change feed: what happened to a half-open range of positions.
///
/// An import that appends a million files is one `added` entry, not a million.
public struct DatasetChange: Sendable, Hashable, Codable {
    /// The entry's number in the store's one ever-increasing sequence, shared by every
    /// dataset: reading a feed "after" a number is what a cursor means.
    public var seq: Int64
    public var kind: ChangeKind
    /// The first position the change touched.
    public var start: Int
    /// One past the last position the change touched.
    public var end: Int

    public init(seq: Int64, kind: ChangeKind, start: Int, end: Int) {
        self.seq = seq
        self.kind = kind
        self.start = start
        self.end = end
    }

    /// `start..<end`.
    public var positions: Range<Int> { start..<max(start, end) }
}

/// A page of a dataset's change feed, as `GET /api/v1/datasets/{id}/changes` returns it.
public struct ChangePage: Sendable, Hashable, Codable {
    public var datasetID: Int64
    /// Where the next read continues: the `seq` of the last change here, or the cursor the
    /// page was asked for when there is none.
    public var cursor: Int64
    /// Changes after the requested cursor, oldest first.
    public var changes: [DatasetChange]

    public init(datasetID: Int64, cursor: Int64, changes: [DatasetChange]) {
        self.datasetID = datasetID
        self.cursor = cursor
        self.changes = changes
    }

    enum CodingKeys: String, CodingKey {
        case cursor, changes
        case datasetID = "dataset_id"
    }
}
