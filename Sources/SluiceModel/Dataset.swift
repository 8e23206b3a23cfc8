/// A named, ordered set of files in a project (Diffgram calls it a directory).
///
/// Position `i` is the i-th file added; appends never move existing positions.
public struct Dataset: Sendable, Hashable, Codable {
    public var id: Int64
    public var projectID: String
    public var name: String
    /// Positions of the dataset: every file appended, removed ones included.
    public var count: Int
    /// Positions whose file was removed (docs/writes.md): they stay, so `count` never shrinks,
    /// and iteration skips them. `count - removedCount` files are in the dataset.
    public var removedCount: Int
    /// Advances on every write that changes what the dataset streams.
    public var version: Int64
    public var createdAt: Timestamp

    public init(
        id: Int64, projectID: String, name: String, count: Int, version: Int64, createdAt: Timestamp, removedCount: Int = 0
    ) {
        self.removedCount = removedCount
        self.id = id
        self.projectID = projectID
        self.name = name
        self.count = count
        self.version = version
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, count, version
        case removedCount = "removed"
        case projectID = "project_id"
        case createdAt = "created_at"
    }

    // By hand so that a dataset from a server older than removals decodes (none removed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        projectID = try c.decode(String.self, forKey: .projectID)
        name = try c.decode(String.self, forKey: .name)
        count = try c.decode(Int.self, forKey: .count)
        removedCount = try c.decodeIfPresent(Int.self, forKey: .removedCount) ?? 0
        version = try c.decode(Int64.self, forKey: .version)
        createdAt = try c.decode(Timestamp.self, forKey: .createdAt)
    }
}
