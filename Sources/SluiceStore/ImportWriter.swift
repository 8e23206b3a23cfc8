import SluiceModel

/// What an importer writes through, inside one transaction opened by `Store.performImport`.
///
/// Methods are synchronous: importers parse files on the store's writer thread, so a
/// streaming parse and its inserts proceed together without buffering the file.
public protocol ImportWriter {
    /// The project being imported into.
    var projectID: String { get }
    /// The dataset files are appended to.
    var datasetID: Int64 { get }

    /// The id of the label with this name, created when missing; other fields update it when given.
    func upsertLabel(_ label: NewLabel) throws -> Int64
    /// Renames or completes a label created earlier in the same import.
    func updateLabel(id: Int64, with label: NewLabel) throws
    /// Moves every instance of label `source` to `target` and deletes `source`: for labels
    /// created as placeholders before the importer learnt their real name.
    func mergeLabel(_ source: Int64, into target: Int64) throws
    /// Inserts a file and returns its id. It is not in the dataset until `append(fileID:)`.
    func insertFile(_ file: NewFile) throws -> Int64
    /// Replaces the fields of a file inserted earlier in the same import.
    func updateFile(id: Int64, with file: NewFile) throws
    /// Appends a file at the end of the dataset and returns its position.
    @discardableResult func append(fileID: Int64) throws -> Int
    /// Inserts an instance; per-file label counts follow.
    @discardableResult func insertInstance(_ instance: NewInstance) throws -> Int64
    /// Copies media bytes into the content-addressed store.
    func storeMedia(at path: String) throws -> StoredMedia
    /// The content-addressed store `storeMedia` writes to. It is `Sendable` and its writes are
    /// idempotent, so an importer may store the media of the files ahead on another thread
    /// while this writer inserts rows (`Lookahead` in SluiceImport).
    var media: MediaStore { get }
    /// What the store holds under `sha256` (uploaded before the import), nil when nothing.
    func storedMedia(sha256: String) throws -> StoredMedia?
}

/// A label as an importer knows it.
public struct NewLabel: Sendable, Hashable {
    public var name: String
    public var color: String?
    public var supercategory: String?
    public var keypointNames: [String]?
    public var skeleton: [[Int]]?
    /// The label's id in the imported file (a COCO category id), given back by exports.
    public var sourceID: Int64?

    public init(
        name: String, color: String? = nil, supercategory: String? = nil, keypointNames: [String]? = nil,
        skeleton: [[Int]]? = nil, sourceID: Int64? = nil
    ) {
        self.sourceID = sourceID
        self.name = name
        self.color = color
        self.supercategory = supercategory
        self.keypointNames = keypointNames
        self.skeleton = skeleton
    }
}

/// A file as an importer knows it.
public struct NewFile: Sendable, Hashable {
    public var type: FileType
    public var name: String
    public var media: Media
    public var metadata: [String: JSONValue]
    public var status: AnnotationStatus

    public init(
        type: FileType, name: String, media: Media, metadata: [String: JSONValue] = [:],
        status: AnnotationStatus = .pending
    ) {
        self.type = type
        self.name = name
        self.media = media
        self.metadata = metadata
        self.status = status
    }
}

/// An instance as an importer knows it.
public struct NewInstance: Sendable, Hashable {
    public var fileID: Int64
    public var labelID: Int64?
    public var kind: InstanceKind
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
        fileID: Int64, labelID: Int64?, kind: InstanceKind, bbox: BoundingBox?, geometry: Geometry = Geometry(),
        area: Double? = nil, isCrowd: Bool = false, score: Double? = nil, frame: Int? = nil, track: Int? = nil,
        attributes: [String: JSONValue] = [:], metadata: [String: JSONValue] = [:], creator: String? = nil
    ) {
        self.fileID = fileID
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
}
