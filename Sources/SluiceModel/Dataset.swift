/// A named, ordered set of files in a project (Diffgram calls it a directory).
///
/// Position `i` is the i-th file added; appends never move existing positions.
public struct Dataset: Sendable, Hashable, Codable {
    public var id: Int64
    public var projectID: String
    public var name: String
    /// Number of files in the dataset.
    public var count: Int
    /// Advances on every write that changes what the dataset streams.
    public var version: Int64
    public var createdAt: Timestamp

    public init(id: Int64, projectID: String, name: String, count: Int, version: Int64, createdAt: Timestamp) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.count = count
        self.version = version
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, count, version
        case projectID = "project_id"
        case createdAt = "created_at"
    }
}
