/// An instance as a client sends it to be written: what it is, not what the store made of it
/// (no id, file or times). The wire keys are those of `Instance`.
///
/// A draft names its label by `label` (name) or `label_id`; when both are given they must agree.
public struct InstanceDraft: Sendable, Hashable, Codable {
    public var label: String?
    public var labelID: Int64?
    public var kind: InstanceKind
    /// Required for `box`; for other kinds the store computes it from the geometry when absent.
    public var bbox: BoundingBox?
    public var geometry: Geometry
    public var area: Double?
    public var isCrowd: Bool
    public var score: Double?
    public var frame: Int?
    public var track: Int?
    public var attributes: [String: JSONValue]
    public var metadata: [String: JSONValue]
    public var creator: String?

    public init(
        label: String? = nil, labelID: Int64? = nil, kind: InstanceKind, bbox: BoundingBox? = nil,
        geometry: Geometry = Geometry(), area: Double? = nil, isCrowd: Bool = false, score: Double? = nil,
        frame: Int? = nil, track: Int? = nil, attributes: [String: JSONValue] = [:],
        metadata: [String: JSONValue] = [:], creator: String? = nil
    ) {
        self.label = label
        self.labelID = labelID
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
    }

    enum CodingKeys: String, CodingKey {
        case label, kind, bbox, geometry, area, score, frame, track, attributes, metadata, creator
        case labelID = "label_id"
        case isCrowd = "iscrowd"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        label = try c.decodeIfPresent(String.self, forKey: .label)
        labelID = try c.decodeIfPresent(Int64.self, forKey: .labelID)
        kind = try c.decode(InstanceKind.self, forKey: .kind)
        bbox = try c.decodeIfPresent(BoundingBox.self, forKey: .bbox)
        geometry = try c.decodeIfPresent(Geometry.self, forKey: .geometry) ?? Geometry()
        area = try c.decodeIfPresent(Double.self, forKey: .area)
        isCrowd = try c.decodeIfPresent(Bool.self, forKey: .isCrowd) ?? false
        score = try c.decodeIfPresent(Double.self, forKey: .score)
        frame = try c.decodeIfPresent(Int.self, forKey: .frame)
        track = try c.decodeIfPresent(Int.self, forKey: .track)
        attributes = try c.decodeIfPresent([String: JSONValue].self, forKey: .attributes) ?? [:]
        metadata = try c.decodeIfPresent([String: JSONValue].self, forKey: .metadata) ?? [:]
        creator = try c.decodeIfPresent(String.self, forKey: .creator)
    }

    /// The draft of an existing instance: what an edit starts from.
    public init(_ instance: Instance) {
        self.init(
            label: instance.label, labelID: instance.labelID, kind: instance.kind, bbox: instance.bbox,
            geometry: instance.geometry, area: instance.area, isCrowd: instance.isCrowd, score: instance.score,
            frame: instance.frame, track: instance.track, attributes: instance.attributes,
            metadata: instance.metadata, creator: instance.creator)
    }
}

/// A file as a client appends it to a dataset: its media by SHA-256 (uploaded before, or
/// already on the server) and its annotation.
public struct FileDraft: Sendable, Hashable, Codable {
    public var name: String
    /// The media's SHA-256 in lowercase hex; the server must hold those bytes.
    public var sha256: String
    /// Checked against the type the server reads from the bytes when given.
    public var type: FileType?
    public var metadata: [String: JSONValue]
    public var status: AnnotationStatus
    public var instances: [InstanceDraft]

    public init(
        name: String, sha256: String, type: FileType? = nil, metadata: [String: JSONValue] = [:],
        status: AnnotationStatus = .pending, instances: [InstanceDraft] = []
    ) {
        self.name = name
        self.sha256 = sha256
        self.type = type
        self.metadata = metadata
        self.status = status
        self.instances = instances
    }

    enum CodingKeys: String, CodingKey { case name, sha256, type, metadata, status, instances }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        sha256 = try c.decode(String.self, forKey: .sha256)
        type = try c.decodeIfPresent(FileType.self, forKey: .type)
        metadata = try c.decodeIfPresent([String: JSONValue].self, forKey: .metadata) ?? [:]
        status = try c.decodeIfPresent(AnnotationStatus.self, forKey: .status) ?? .pending
        instances = try c.decodeIfPresent([InstanceDraft].self, forKey: .instances) ?? []
    }
}

/// A file with its live instances, as a write leaves it: what an annotation tool's "save"
/// gets back, with the `revision` to send as `If-Match` next time.
public struct AnnotatedFile: Sendable, Hashable, Codable {
    public var file: File
    public var instances: [Instance]

    public init(file: File, instances: [Instance]) {
        self.file = file
        self.instances = instances
    }
}

/// Where an appended file landed.
public struct AppendedFile: Sendable, Hashable, Codable {
    public var position: Int
    public var file: File

    public init(position: Int, file: File) {
        self.position = position
        self.file = file
    }
}
