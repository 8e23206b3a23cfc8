/// The binary item frame of `format=frames` streams (docs/http-api.md "Item frames"): what
/// both sides read without building a dictionary or a string per field.
///
/// A response is the preamble (`ItemFrame.magic`, a u32 length and a JSON object with the
/// label table, sent once) and then one frame per item: a u32 length, a 40-byte header, a
/// table of sections (16 bytes each) and the sections' data, each section at an 8-byte
/// aligned offset so that a reader can view it as an array in place, then the media bytes.
/// Every number is little-endian. A section's key fixes its element type and its count
/// (per file, or per instance); an absent section means "none" for every element.
public enum ItemFrame {
    /// The first bytes of a frames response: "SLFRAME" and the layout's version.
    public static let magic: [UInt8] = Array("SLFRAME1".utf8)
    public static let headerSize = 40
    public static let sectionEntrySize = 16
    /// The frames this reader accepts at most: a frame is one item and its image.
    public static let maximumFrameBytes = 1 << 31
    /// The preamble (the label table) a reader accepts at most.
    public static let maximumPreambleBytes = 64 << 20

    /// Element types, as a section entry names them.
    public enum ElementType: UInt8, Sendable {
        case uint8 = 1, uint32 = 2, int64 = 3, float64 = 4, float32 = 5

        public var size: Int {
            switch self {
            case .uint8: 1
            case .uint32, .float32: 4
            case .int64, .float64: 8
            }
        }
    }

    /// The sections: a key's number, element type and count never change within a version
    /// of the layout; new keys may be added (readers skip keys they do not know).
    public enum Key: UInt16, Sendable, CaseIterable {
        /// int64 × 8: created_at, updated_at (ms), byte_size, width, height, frame_count, type
        /// code, status code; -1 where none.
        case fileNumbers = 1
        /// float64 × 1, only when the file has a frame rate.
        case frameRate = 2
        /// UTF-8 text: the file's name, project, media sha256 and MIME type (the last two
        /// absent when none), and its metadata as JSON (absent when `{}`).
        case name = 3, projectID = 4, sha256 = 5, mimeType = 6, fileMetadata = 7
        /// Per instance (N = the header's instance count), each int64 × N unless said.
        case instanceID = 16
        /// -1: no label.
        case labelID = 17
        /// float64 × 4N: x_min, y_min, x_max, y_max; NaN where the instance has no box.
        case box = 18
        /// float64 × N, NaN where none.
        case area = 19, score = 20
        /// uint8 × N: `kindCodes`.
        case kind = 21
        /// uint8 × N: bit 0 crowd, bit 1 deleted.
        case instanceFlags = 22
        /// int64 × N, `Int64.min` where none.
        case frame = 23, track = 24
        /// int64 × N, milliseconds.
        case createdAt = 25, updatedAt = 26
        /// Texts per instance: UTF-8 bytes (`…Text`) and uint32 × (N + 1) offsets into them
        /// (`…Offsets`); instance i's text is bytes[offsets[i] ..< offsets[i+1]], and an
        /// empty one means none (`{}` for geometry, attributes and metadata). A pair is
        /// absent when every instance's text is empty.
        case geometryText = 32, geometryOffsets = 33
        case attributesText = 34, attributesOffsets = 35
        case metadataText = 36, metadataOffsets = 37
        case creatorText = 38, creatorOffsets = 39
        /// The label name only where it is not the label table's name for the instance's
        /// label id (a pinned version's name, or a label without an id).
        case labelText = 40, labelOffsets = 41
        /// A tensor frame (`tensorFlag`) holds the standard tensors of DESIGN.md "Tensors"
        /// (`ItemTensors`, named by `tensorKeys`) instead of the instance columns, and the
        /// header's instance count is theirs (N). float32: boxes [N, 4], area [N],
        /// polygon_xy [P, 2], keypoints [N, K, 3]; the rest int64: labels, label_ids, iscrowd
        /// [N], image_id [1], polygon_ring_offsets [R + 1], polygon_offsets [N + 1], and, only
        /// when the item has them, frames and tracks [N], spans [S, 2] and span_labels [S].
        case boxes = 64, labels = 65, labelIDs = 66, tensorArea = 67, isCrowd = 68, imageID = 69
        case polygonXY = 70, polygonRingOffsets = 71, polygonOffsets = 72, keypoints = 73
        case frames = 74, tracks = 75, spans = 76, spanLabels = 77

        public var elementType: ElementType {
            switch self {
            case .fileNumbers, .instanceID, .labelID, .frame, .track, .createdAt, .updatedAt: .int64
            case .labels, .labelIDs, .isCrowd, .imageID, .polygonRingOffsets, .polygonOffsets, .frames, .tracks,
                .spans, .spanLabels:
                .int64
            case .boxes, .tensorArea, .polygonXY, .keypoints: .float32
            case .frameRate, .box, .area, .score: .float64
            case .geometryOffsets, .attributesOffsets, .metadataOffsets, .creatorOffsets, .labelOffsets: .uint32
            default: .uint8
            }
        }
    }

    /// The tensor keys' names, as a safetensors record names them.
    public static let tensorKeys: [String: Key] = [
        "boxes": .boxes, "labels": .labels, "label_ids": .labelIDs, "area": .tensorArea, "iscrowd": .isCrowd,
        "image_id": .imageID, "polygon_xy": .polygonXY, "polygon_ring_offsets": .polygonRingOffsets,
        "polygon_offsets": .polygonOffsets, "keypoints": .keypoints, "frames": .frames, "tracks": .tracks,
        "spans": .spans, "span_labels": .spanLabels,
    ]

    /// Header flags.
    public static let removedFlag: UInt8 = 1
    public static let mediaFlag: UInt8 = 2
    public static let tensorFlag: UInt8 = 4
    /// Instance flags.
    public static let crowdFlag: UInt8 = 1
    public static let deletedFlag: UInt8 = 2
    /// Where an optional int64 column has no value.
    public static let none = Int64.min

    /// The codes of enumerations, by place: appended to, never reordered.
    public static let fileTypeCodes: [FileType] = [.image, .video, .frame, .text]
    public static let statusCodes: [AnnotationStatus] = [.pending, .inProgress, .complete]
    public static let kindCodes: [InstanceKind] = [
        .box, .polygon, .mask, .point, .line, .keypoints, .ellipse, .cuboid, .global, .span,
    ]

    /// The size of a section's data padded to the 8-byte alignment of the next one.
    public static func padded(_ count: Int) -> Int { (count + 7) & ~7 }
}

/// A frame that breaks the layout, with where.
public struct ItemFrameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "a malformed item frame: \(message)" }
}

extension ItemFrame {
    /// The label table of a preamble's JSON: label id → name.
    public static func labelNames(fromPreamble json: [UInt8]) throws -> [Int64: String] {
        var reader = JSONReader(bytes: json)
        var names: [Int64: String] = [:]
        try WireDecoder.object(&reader, "preamble") { reader, key in
            guard key == "labels" else { return try reader.skipValue() }
            try WireDecoder.array(&reader, key) { reader in
                var id: Int64?
                var name: String?
                try WireDecoder.object(&reader, "label") { reader, key in
                    switch key {
                    case "id": id = try WireDecoder.int64(&reader, key)
                    case "name": name = try WireDecoder.string(&reader, key)
                    default: try reader.skipValue()
                    }
                }
                guard let id, let name else { throw ItemFrameError("a preamble label without its id or name") }
                names[id] = name
            }
        }
        return names
    }

    /// The item in `body` (a frame without its length prefix) and where its media bytes are
    /// in `body`; label names come from the stream's table unless the frame carries them.
    public static func item(
        from body: UnsafeRawBufferPointer, labelNames: [Int64: String]
    ) throws -> (item: Item, media: Range<Int>?) {
        let frame = try FrameView(body)
        return (try frame.item(labelNames: labelNames), frame.media)
    }

    /// The item of a frame given without its media (`body` ends where the media begins, the
    /// media came apart): the header must say media of `mediaLength` bytes follow.
    public static func item(
        fromPrefix body: UnsafeRawBufferPointer, mediaLength: Int, labelNames: [Int64: String]
    ) throws -> Item {
        try FrameView(body, mediaApart: mediaLength).item(labelNames: labelNames)
    }
}

/// A frame's header and section table, checked: every section lies inside the data area.
struct FrameView {
    let body: UnsafeRawBufferPointer
    let position: Int64
    let fileID: Int64
    let revision: Int64
    let instanceCount: Int
    let flags: UInt8
    let media: Range<Int>?
    let sectionCount: Int
    let dataStart: Int
    /// The item sections' byte ranges in `body`, by key (tensor keys, which an item frame
    /// does not have, are found by a scan).
    private var itemSections = [Range<Int>?](repeating: nil, count: Int(ItemFrame.Key.labelOffsets.rawValue) + 1)

    /// `mediaApart`: the frame's media is not in `body` but that many bytes follow it elsewhere.
    init(_ body: UnsafeRawBufferPointer, mediaApart: Int? = nil) throws {
        guard body.count >= ItemFrame.headerSize else {
            throw ItemFrameError("\(body.count) bytes, shorter than the \(ItemFrame.headerSize)-byte header")
        }
        self.body = body
        position = body.loadUnaligned(fromByteOffset: 0, as: Int64.self).littleEndian
        fileID = body.loadUnaligned(fromByteOffset: 8, as: Int64.self).littleEndian
        revision = body.loadUnaligned(fromByteOffset: 16, as: Int64.self).littleEndian
        instanceCount = Int(body.loadUnaligned(fromByteOffset: 24, as: UInt32.self).littleEndian)
        let sectionCount = Int(body.loadUnaligned(fromByteOffset: 28, as: UInt16.self).littleEndian)
        flags = body[30]
        let mediaLength = Int(body.loadUnaligned(fromByteOffset: 32, as: UInt32.self).littleEndian)
        let dataLength = Int(body.loadUnaligned(fromByteOffset: 36, as: UInt32.self).littleEndian)
        let dataStart = ItemFrame.headerSize + sectionCount * ItemFrame.sectionEntrySize
        self.sectionCount = sectionCount
        self.dataStart = dataStart
        guard dataStart + dataLength + mediaLength == body.count + (mediaApart ?? 0) else {
            throw ItemFrameError(
                "\(body.count + (mediaApart ?? 0)) bytes, not the header's \(dataStart) + \(dataLength) of data + \(mediaLength) of media")
        }
        media = flags & ItemFrame.mediaFlag != 0 && mediaApart == nil ? (dataStart + dataLength)..<body.count : nil
        for entry in 0..<sectionCount {
            let at = ItemFrame.headerSize + entry * ItemFrame.sectionEntrySize
            let key = body.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian
            let type = body[at + 2]
            let offset = Int(body.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self).littleEndian)
            let length = Int(body.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self).littleEndian)
            guard offset + length <= dataLength else {
                throw ItemFrameError("section \(key) spans [\(offset), \(offset + length)) of \(dataLength) bytes of data")
            }
            if let known = ItemFrame.Key(rawValue: key) {
                guard type == known.elementType.rawValue, length % known.elementType.size == 0 else {
                    throw ItemFrameError("section \(key) has element type \(type) and \(length) bytes")
                }
            }
            if Int(key) < itemSections.count {
                itemSections[Int(key)] = (dataStart + offset)..<(dataStart + offset + length)
            }
        }
    }

    /// Where a section's bytes are in `body`.
    func section(_ key: ItemFrame.Key) -> Range<Int>? {
        if Int(key.rawValue) < itemSections.count { return itemSections[Int(key.rawValue)] }
        for entry in 0..<sectionCount {
            let at = ItemFrame.headerSize + entry * ItemFrame.sectionEntrySize
            guard body.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian == key.rawValue else { continue }
            let offset = Int(body.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self).littleEndian)
            let length = Int(body.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self).littleEndian)
            return (dataStart + offset)..<(dataStart + offset + length)
        }
        return nil
    }

    func count(_ key: ItemFrame.Key) -> Int {
        section(key).map { $0.count / key.elementType.size } ?? 0
    }

    func int64(_ key: ItemFrame.Key, _ index: Int) -> Int64? {
        guard let range = section(key), index < range.count / 8 else { return nil }
        return body.loadUnaligned(fromByteOffset: range.lowerBound + index * 8, as: Int64.self).littleEndian
    }

    func float64(_ key: ItemFrame.Key, _ index: Int) -> Double? {
        guard let range = section(key), index < range.count / 8 else { return nil }
        let value = Double(
            bitPattern: body.loadUnaligned(fromByteOffset: range.lowerBound + index * 8, as: UInt64.self).littleEndian)
        return value.isNaN ? nil : value
    }

    func byte(_ key: ItemFrame.Key, _ index: Int) -> UInt8? {
        guard let range = section(key), index < range.count else { return nil }
        return body[range.lowerBound + index]
    }

    func text(_ key: ItemFrame.Key) -> String? {
        section(key).map { String(decoding: UnsafeRawBufferPointer(rebasing: body[$0]), as: UTF8.self) }
    }

    /// Instance `index`'s bytes of a text/offsets pair; nil when empty or absent.
    func instanceBytes(_ text: ItemFrame.Key, _ offsets: ItemFrame.Key, _ index: Int) throws -> UnsafeRawBufferPointer? {
        guard let bytes = section(text), let table = section(offsets) else { return nil }
        guard table.count == (instanceCount + 1) * 4 else {
            throw ItemFrameError("section \(offsets.rawValue) holds \(table.count / 4) offsets for \(instanceCount) instances")
        }
        let start = Int(body.loadUnaligned(fromByteOffset: table.lowerBound + index * 4, as: UInt32.self).littleEndian)
        let end = Int(body.loadUnaligned(fromByteOffset: table.lowerBound + index * 4 + 4, as: UInt32.self).littleEndian)
        guard start <= end, end <= bytes.count else {
            throw ItemFrameError("instance \(index)'s text [\(start), \(end)) of section \(text.rawValue)'s \(bytes.count) bytes")
        }
        return start == end ? nil : UnsafeRawBufferPointer(rebasing: body[(bytes.lowerBound + start)..<(bytes.lowerBound + end)])
    }

    func instanceString(_ text: ItemFrame.Key, _ offsets: ItemFrame.Key, _ index: Int) throws -> String? {
        try instanceBytes(text, offsets, index).map { String(decoding: $0, as: UTF8.self) }
    }

    func instanceObject(_ text: ItemFrame.Key, _ offsets: ItemFrame.Key, _ index: Int) throws -> [String: JSONValue] {
        guard let bytes = try instanceBytes(text, offsets, index) else { return [:] }
        var reader = JSONReader(bytes: Array(bytes))
        return try WireDecoder.jsonObject(&reader, "object")
    }

    func item(labelNames: [Int64: String]) throws -> Item {
        guard flags & ItemFrame.tensorFlag == 0 else {
            throw ItemFrameError("a tensor frame holds tensors, not the item's instances")
        }
        func code<T>(_ table: [T], _ value: Int64?, _ what: String) throws -> T {
            guard let value, value >= 0, value < table.count else {
                throw ItemFrameError("\(what) code \(value.map(String.init) ?? "missing")")
            }
            return table[Int(value)]
        }
        func optional(_ value: Int64?) -> Int? { value.flatMap { $0 < 0 ? nil : Int($0) } }
        guard count(.fileNumbers) == 8 else { throw ItemFrameError("no file numbers") }
        var metadata: [String: JSONValue] = [:]
        if let range = section(.fileMetadata) {
            var reader = JSONReader(bytes: Array(UnsafeRawBufferPointer(rebasing: body[range])))
            metadata = try WireDecoder.jsonObject(&reader, "file.metadata")
        }
        let byteSize = int64(.fileNumbers, 2)!
        let file = File(
            id: fileID, projectID: text(.projectID) ?? "", type: try code(ItemFrame.fileTypeCodes, int64(.fileNumbers, 6), "file type"),
            name: text(.name) ?? "",
            media: Media(
                sha256: text(.sha256), mimeType: text(.mimeType), byteSize: byteSize < 0 ? nil : byteSize,
                width: optional(int64(.fileNumbers, 3)), height: optional(int64(.fileNumbers, 4)),
                frameCount: optional(int64(.fileNumbers, 5)), frameRate: float64(.frameRate, 0)),
            metadata: metadata, status: try code(ItemFrame.statusCodes, int64(.fileNumbers, 7), "status"),
            createdAt: Timestamp(milliseconds: int64(.fileNumbers, 0)!),
            updatedAt: Timestamp(milliseconds: int64(.fileNumbers, 1)!), revision: revision)
        if instanceCount > 0 {
            for key in [ItemFrame.Key.instanceID, .labelID, .area, .score, .kind, .instanceFlags, .frame, .track, .createdAt, .updatedAt] {
                guard count(key) == instanceCount else {
                    throw ItemFrameError("section \(key.rawValue) holds \(count(key)) values for \(instanceCount) instances")
                }
            }
            guard count(.box) == instanceCount * 4 else { throw ItemFrameError("the boxes are not 4 per instance") }
        }
        // Reserved only now: the count is a stranger's number until the sections bear it out.
        var instances: [Instance] = []
        instances.reserveCapacity(instanceCount)
        for index in 0..<instanceCount {
            let labelID = int64(.labelID, index).flatMap { $0 < 0 ? nil : $0 }
            let label = try instanceString(.labelText, .labelOffsets, index) ?? labelID.flatMap { labelNames[$0] }
            let box = float64(.box, index * 4).map {
                BoundingBox(
                    xMin: $0, yMin: float64(.box, index * 4 + 1) ?? .nan, xMax: float64(.box, index * 4 + 2) ?? .nan,
                    yMax: float64(.box, index * 4 + 3) ?? .nan)
            }
            var geometry = Geometry()
            if let bytes = try instanceBytes(.geometryText, .geometryOffsets, index) {
                var reader = JSONReader(bytes: Array(bytes))
                geometry = try WireDecoder.geometry(&reader)
            }
            let flags = byte(.instanceFlags, index)!
            func optionalInt(_ key: ItemFrame.Key) -> Int? {
                int64(key, index).flatMap { $0 == ItemFrame.none ? nil : Int($0) }
            }
            instances.append(
                Instance(
                    id: int64(.instanceID, index)!, fileID: fileID, labelID: labelID, label: label,
                    kind: try code(ItemFrame.kindCodes, Int64(byte(.kind, index)!), "instance kind"), bbox: box,
                    geometry: geometry, area: float64(.area, index), isCrowd: flags & ItemFrame.crowdFlag != 0,
                    score: float64(.score, index), frame: optionalInt(.frame), track: optionalInt(.track),
                    attributes: try instanceObject(.attributesText, .attributesOffsets, index),
                    metadata: try instanceObject(.metadataText, .metadataOffsets, index),
                    creator: try instanceString(.creatorText, .creatorOffsets, index),
                    createdAt: Timestamp(milliseconds: int64(.createdAt, index)!),
                    updatedAt: Timestamp(milliseconds: int64(.updatedAt, index)!),
                    isDeleted: flags & ItemFrame.deletedFlag != 0))
        }
        return Item(
            position: Int(position), file: file, instances: instances, isRemoved: flags & ItemFrame.removedFlag != 0)
    }
}
