import Foundation
import SluiceModel

/// An item as the store reads it: scalar columns decoded, JSON columns kept as the text
/// they are stored as, so the server can write them to the wire without a decode/encode round.
public struct StoredItem: Sendable {
    public var position: Int
    public var file: StoredFile
    public var instances: [StoredInstance]
    /// The file was removed from the dataset (at or before the version read): the position
    /// keeps it, marked (docs/writes.md).
    public var isRemoved: Bool

    public init(position: Int, file: StoredFile, instances: [StoredInstance], isRemoved: Bool = false) {
        self.position = position
        self.file = file
        self.instances = instances
        self.isRemoved = isRemoved
    }

    /// The item as model values.
    public func decoded() throws -> Item {
        Item(
            position: position, file: try file.decoded(), instances: try instances.map { try $0.decoded() },
            isRemoved: isRemoved)
    }
}

/// A file row with its metadata as stored JSON text.
public struct StoredFile: Sendable {
    public var id: Int64
    public var projectID: String
    public var type: FileType
    public var name: String
    public var media: Media
    public var metadataJSON: String
    public var status: AnnotationStatus
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The sequence number of the last change to the file's item (`File.revision`).
    public var revision: Int64

    public func decoded() throws -> File {
        File(
            id: id, projectID: projectID, type: type, name: name, media: media,
            metadata: try JSONColumn.decode([String: JSONValue].self, from: metadataJSON),
            status: status, createdAt: createdAt, updatedAt: updatedAt, revision: revision)
    }
}

/// An instance row with geometry, attributes and metadata as stored JSON text.
public struct StoredInstance: Sendable {
    public var id: Int64
    public var fileID: Int64
    public var labelID: Int64?
    public var label: String?
    public var kind: InstanceKind
    public var bbox: BoundingBox?
    public var geometryJSON: String
    public var area: Double?
    public var isCrowd: Bool
    public var score: Double?
    public var frame: Int?
    public var track: Int?
    public var attributesJSON: String
    public var metadataJSON: String
    public var creator: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var isDeleted: Bool

    public func decoded() throws -> Instance {
        Instance(
            id: id, fileID: fileID, labelID: labelID, label: label, kind: kind, bbox: bbox,
            geometry: try JSONColumn.decode(Geometry.self, from: geometryJSON), area: area, isCrowd: isCrowd,
            score: score, frame: frame, track: track,
            attributes: try JSONColumn.decode([String: JSONValue].self, from: attributesJSON),
            metadata: try JSONColumn.decode([String: JSONValue].self, from: metadataJSON),
            creator: creator, createdAt: createdAt, updatedAt: updatedAt, isDeleted: isDeleted)
    }
}

/// Encoding of the JSON columns: compact, keys sorted so equal values store equal text.
enum JSONColumn {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func encodeObject(_ value: [String: JSONValue]) -> String {
        guard !value.isEmpty else { return "{}" }
        var out = JSONOutput()
        out.object(value)
        return out.string
    }

    static func encodeGeometry(_ geometry: Geometry) -> String {
        guard !geometry.isEmpty else { return "{}" }
        var out = JSONOutput()
        out.geometry(geometry)
        return out.string
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// The items of one read, each found by its file to take the file's instances. A file holds
/// one position of a dataset, or two when it left and came back (docs/writes.md): the second
/// is kept apart, so the common case costs one dictionary entry and no array per file.
struct ItemsByFile {
    private(set) var items: [StoredItem] = []
    private var first: [Int64: Int] = [:]
    private var later: [Int64: [Int]] = [:]

    init(capacity: Int) {
        items.reserveCapacity(capacity)
        first.reserveCapacity(capacity)
    }

    var isEmpty: Bool { items.isEmpty }
    var fileIDs: [Int64] { Array(first.keys) }

    mutating func append(_ item: StoredItem) {
        if first[item.file.id] == nil {
            first[item.file.id] = items.count
        } else {
            later[item.file.id, default: []].append(items.count)
        }
        items.append(item)
    }

    /// Adds the instance at every position of its file. Instances come in id order; a read
    /// that sends a file's rows once per position sends them again from the start, and an
    /// instance not above the last one a position has is that repeat, skipped.
    mutating func add(_ instance: StoredInstance) {
        guard let index = first[instance.fileID] else { return }
        add(instance, at: index)
        for other in later[instance.fileID] ?? [] { add(instance, at: other) }
    }

    private mutating func add(_ instance: StoredInstance, at index: Int) {
        if let last = items[index].instances.last, last.id >= instance.id { return }
        items[index].instances.append(instance)
    }
}
