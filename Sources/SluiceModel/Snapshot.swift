/// A named, immutable pin of one version of a dataset: reads at it return the same items
/// forever, whatever is written later.
public struct Snapshot: Sendable, Hashable, Codable {
    public var id: Int64
    public var datasetID: Int64
    public var name: String
    /// The dataset version it pins.
    public var version: Int64
    /// The number of files at that version.
    public var count: Int
    public var createdAt: Timestamp

    public init(id: Int64, datasetID: Int64, name: String, version: Int64, count: Int, createdAt: Timestamp) {
        self.id = id
        self.datasetID = datasetID
        self.name = name
        self.version = version
        self.count = count
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, version, count
        case datasetID = "dataset_id"
        case createdAt = "created_at"
    }
}

/// One difference between two versions of a dataset, in position order.
public struct VersionDiffEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The file is at this position in the second version, not in the first.
        case fileAdded = "file_added"
        case fileRemoved = "file_removed"
        /// The file's item differs (its instances, or a label name they show).
        case fileChanged = "file_changed"
        case instanceAdded = "instance_added"
        case instanceRemoved = "instance_removed"
    }

    public var kind: Kind
    public var position: Int
    public var fileID: Int64
    /// For instance entries.
    public var instanceID: Int64?

    public init(kind: Kind, position: Int, fileID: Int64, instanceID: Int64? = nil) {
        self.kind = kind
        self.position = position
        self.fileID = fileID
        self.instanceID = instanceID
    }

    enum CodingKeys: String, CodingKey {
        case kind, position
        case fileID = "file_id"
        case instanceID = "instance_id"
    }
}
