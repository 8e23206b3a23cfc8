/// The kind of an annotation instance.
public enum InstanceKind: String, Sendable, Hashable, Codable, CaseIterable {
    case box, polygon, mask, point, line, keypoints, ellipse, cuboid
    /// A file-level tag with no geometry.
    case global
    /// A range of a text file's characters (`geometry.span`); it has no box.
    case span
}

/// One annotation on a file.
public struct Instance: Sendable, Hashable, Codable {
    public var id: Int64
    public var fileID: Int64
    /// Nil for annotations with no label (COCO captions).
    public var labelID: Int64?
    /// The label's name, filled in by the store for readers.
    public var label: String?
    public var kind: InstanceKind
    /// The enclosing box, stored in indexed columns; nil for `global` instances.
    public var bbox: BoundingBox?
    public var geometry: Geometry
    public var area: Double?
    public var isCrowd: Bool
    public var score: Double?
    /// Frame number within a video.
    public var frame: Int?
    /// Sequence (track) number across frames.
    public var track: Int?
    /// Attribute values by attribute group name; COCO captions live under `caption`.
    public var attributes: [String: JSONValue]
    /// Source fields with no place elsewhere (COCO `id` as `coco_id`, `num_keypoints`).
    public var metadata: [String: JSONValue]
    public var creator: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var isDeleted: Bool

    public init(
        id: Int64 = 0, fileID: Int64, labelID: Int64?, label: String? = nil, kind: InstanceKind,
        bbox: BoundingBox?, geometry: Geometry = Geometry(), area: Double? = nil, isCrowd: Bool = false,
        score: Double? = nil, frame: Int? = nil, track: Int? = nil, attributes: [String: JSONValue] = [:],
        metadata: [String: JSONValue] = [:], creator: String? = nil, createdAt: Timestamp = .now(),
        updatedAt: Timestamp? = nil, isDeleted: Bool = false
    ) {
        self.id = id
        self.fileID = fileID
        self.labelID = labelID
        self.label = label
        self.kind = kind
        self.bbox = bbox
        self.geometry = geometry
        self.area = area
        self.isCrowd = isCrowd
        self.score = score
        self.frame = frame
        self.track = track
        self.attributes = attributes
        self.metadata = metadata
        self.creator = creator
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.isDeleted = isDeleted
    }

    enum CodingKeys: String, CodingKey {
        case id, label, kind, bbox, geometry, area, score, frame, track, attributes, metadata, creator
        case fileID = "file_id"
        case labelID = "label_id"
        case isCrowd = "iscrowd"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case isDeleted = "deleted"
    }
}
