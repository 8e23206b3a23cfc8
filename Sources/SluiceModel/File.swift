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
    /// The sequence number of the last change to this file's item (its fields or its
    /// instances); 0 when it has not changed since change tracking began. A cache keyed on
    /// (file id, revision) never serves a stale item.
    public var revision: Int64

    public init(
        id: Int64, projectID: String, type: FileType, name: String, media: Media,
        metadata: [String: JSONValue] = [:], status: AnnotationStatus = .pending,
        createdAt: Timestamp, updatedAt: Timestamp, revision: Int64 = 0
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
        self.revision = revision
    }

    enum CodingKeys: String, CodingKey {
        case id, type, name, media, metadata, status, revision
        case projectID = "project_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    // Written by hand only so that a file from a server older than `revision` still decodes (as 0).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        projectID = try container.decode(String.self, forKey: .projectID)
        type = try container.decode(FileType.self, forKey: .type)
        name = try container.decode(String.self, forKey: .name)
        media = try container.decode(Media.self, forKey: .media)
        metadata = try container.decode([String: JSONValue].self, forKey: .metadata)
        status = try container.decode(AnnotationStatus.self, forKey: .status)
        createdAt = try container.decode(Timestamp.self, forKey: .createdAt)
        updatedAt = try container.decode(Timestamp.self, forKey: .updatedAt)
        revision = try container.decodeIfPresent(Int64.self, forKey: .revision) ?? 0
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
