/// What a file holds.
public enum FileType: String, Sendable, Hashable, Codable, CaseIterable {
    case image, video, frame, text
}

/// Where a file stands in the annotation workflow.
public enum AnnotationStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, inProgress = "in_progress", complete
}

/// A file of a project: an image, a video, one frame of a video, or a text.
public struct File: Sendable, Hashable, Codable {
    public var id: Int64
    public var projectID: String
    public var type: FileType
    public var name: String
    public var media: Media
    /// Free-form metadata; for COCO imports, the image's own fields (`coco_id`, `license`, …).
    public var metadata: [String: JSONValue]
    public var status: AnnotationStatus
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: Int64, projectID: String, type: FileType, name: String, media: Media,
        metadata: [String: JSONValue] = [:], status: AnnotationStatus = .pending,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.projectID = projectID
        self.type = type
        self.name = name
        self.media = media
        self.metadata = metadata
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, type, name, media, metadata, status
        case projectID = "project_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// The media behind a file. `sha256` is nil when only the annotation is known (no bytes imported).
public struct Media: Sendable, Hashable, Codable {
    /// Hex SHA-256 of the bytes: the key in the content-addressed media store.
    public var sha256: String?
    public var mimeType: String?
    public var byteSize: Int64?
    public var width: Int?
    public var height: Int?
    public var frameCount: Int?
    public var frameRate: Double?

    public init(
        sha256: String? = nil, mimeType: String? = nil, byteSize: Int64? = nil, width: Int? = nil,
        height: Int? = nil, frameCount: Int? = nil, frameRate: Double? = nil
    ) {
        self.sha256 = sha256
        self.mimeType = mimeType
        self.byteSize = byteSize
        self.width = width
        self.height = height
        self.frameCount = frameCount
        self.frameRate = frameRate
    }

    enum CodingKeys: String, CodingKey {
        case sha256, width, height
        case mimeType = "mime_type"
        case byteSize = "byte_size"
        case frameCount = "frame_count"
        case frameRate = "frame_rate"
    }
}
