/// A project: the unit of ownership for labels, attribute groups, files and datasets.
public struct Project: Sendable, Hashable, Codable {
    /// The project's string id, as in `coco-dataset`.
    public var id: String
    public var name: String
    /// Public projects can be read without an API key.
    public var isPublic: Bool
    public var createdAt: Timestamp

    public init(id: String, name: String, isPublic: Bool = true, createdAt: Timestamp = .now()) {
        self.id = id
        self.name = name
        self.isPublic = isPublic
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name
        case isPublic = "public"
        case createdAt = "created_at"
    }
}
