/// Decodes the wire JSON of items and pages straight from tokens.
///
/// The same format as the `Codable` conformances (a test holds the two equal), several
/// times faster than `JSONDecoder` on the streaming path: no generic containers, no
/// per-field metadata look-ups. Unknown members are skipped, so newer servers can add fields.
public enum WireDecoder {
    /// An `ItemPage` from the body of `GET /api/v1/datasets/{id}/items`.
    public static func itemPage(from bytes: [UInt8]) throws -> ItemPage {
        var reader = JSONReader(bytes: bytes)
        var page = ItemPage(datasetID: 0, start: 0, end: 0, count: 0, items: [])
        try object(&reader, "page") { reader, key in
            switch key {
            case "dataset_id": page.datasetID = try int64(&reader, key)
            case "start": page.start = try int(&reader, key)
            case "end": page.end = try int(&reader, key)
            case "count": page.count = try int(&reader, key)
            case "items": try array(&reader, key) { reader in page.items.append(try item(&reader)) }
            default: try reader.skipValue()
            }
        }
        return page
    }

    /// An `Item` from the body of `GET /api/v1/datasets/{id}/items/{position}`.
    public static func item(from bytes: [UInt8]) throws -> Item {
        var reader = JSONReader(bytes: bytes)
        return try item(&reader)
    }

    /// A `Geometry` from its stored JSON text.
    public static func geometry(fromJSON text: String) throws -> Geometry {
        var reader = JSONReader(bytes: Array(text.utf8))
        return try geometry(&reader)
    }

    /// A JSON object (metadata, attributes) from its stored text.
    public static func object(fromJSON text: String) throws -> [String: JSONValue] {
        var reader = JSONReader(bytes: Array(text.utf8))
        return try jsonObject(&reader, "object")
    }

    static func item(_ reader: inout JSONReader) throws -> Item {
        var position = 0
        var file: File?
        var instances: [Instance] = []
        var isRemoved = false
        try object(&reader, "item") { reader, key in
            switch key {
            case "position": position = try int(&reader, key)
            case "file": file = try self.file(&reader)
            case "instances":
                try array(&reader, key) { reader in instances.append(try instance(&reader)) }
            case "removed": isRemoved = try bool(&reader, key)
            default: try reader.skipValue()
            }
        }
        guard let file else { throw WireError.missing("item.file") }
        return Item(position: position, file: file, instances: instances, isRemoved: isRemoved)
    }

    static func file(_ reader: inout JSONReader) throws -> File {
        var id: Int64?
        var projectID = ""
        var type = FileType.image
        var name = ""
        var media = Media()
        var metadata: [String: JSONValue] = [:]
        var status = AnnotationStatus.pending
        var createdAt = Timestamp(milliseconds: 0)
        var updatedAt = Timestamp(milliseconds: 0)
        var revision: Int64 = 0
        try object(&reader, "file") { reader, key in
            switch key {
            case "id": id = try int64(&reader, key)
            case "project_id": projectID = try string(&reader, key)
            case "type":
                let raw = try string(&reader, key)
                guard let t = FileType(rawValue: raw) else { throw WireError.invalid("file.type", raw) }
                type = t
            case "name": name = try string(&reader, key)
            case "media": media = try self.media(&reader)
            case "metadata": metadata = try jsonObject(&reader, key)
            case "status": status = AnnotationStatus(rawValue: try string(&reader, key)) ?? .pending
            case "created_at": createdAt = try timestamp(&reader, key)
            case "updated_at": updatedAt = try timestamp(&reader, key)
            case "revision": revision = try int64(&reader, key)
            default: try reader.skipValue()
            }
        }
        guard let id else { throw WireError.missing("file.id") }
        return File(
            id: id, projectID: projectID, type: type, name: name, media: media, metadata: metadata, status: status,
            createdAt: createdAt, updatedAt: updatedAt, revision: revision)
    }

    static func media(_ reader: inout JSONReader) throws -> Media {
        var media = Media()
        try object(&reader, "media") { reader, key in
            switch key {
            case "sha256": media.sha256 = try optionalString(&reader, key)
            case "mime_type": media.mimeType = try optionalString(&reader, key)
            case "byte_size": media.byteSize = try optionalNumber(&reader, key).map { Int64($0) }
            case "width": media.width = try optionalNumber(&reader, key).map { Int($0) }
            case "height": media.height = try optionalNumber(&reader, key).map { Int($0) }
            case "frame_count": media.frameCount = try optionalNumber(&reader, key).map { Int($0) }
            case "frame_rate": media.frameRate = try optionalNumber(&reader, key)
            default: try reader.skipValue()
            }
        }
        return media
    }

    static func instance(_ reader: inout JSONReader) throws -> Instance {
        var i = Instance(
            fileID: 0, labelID: nil, kind: .global, bbox: nil, createdAt: Timestamp(milliseconds: 0))
        var hasID = false
        try object(&reader, "instance") { reader, key in
            switch key {
            case "id":
                i.id = try int64(&reader, key)
                hasID = true
            case "file_id": i.fileID = try int64(&reader, key)
            case "label_id": i.labelID = try optionalNumber(&reader, key).map { Int64($0) }
            case "label": i.label = try optionalString(&reader, key)
            case "kind":
                let raw = try string(&reader, key)
                guard let kind = InstanceKind(rawValue: raw) else { throw WireError.invalid("instance.kind", raw) }
                i.kind = kind
            case "bbox":
                switch try reader.next() {
                case .null: i.bbox = nil
                case let token:
                    reader.lookahead = token
                    let v = try numbers(&reader, key)
                    guard v.count == 4 else { throw WireError.invalid("instance.bbox", "\(v.count) numbers") }
                    i.bbox = BoundingBox(xMin: v[0], yMin: v[1], xMax: v[2], yMax: v[3])
                }
            case "geometry": i.geometry = try geometry(&reader)
            case "area": i.area = try optionalNumber(&reader, key)
            case "iscrowd": i.isCrowd = try bool(&reader, key)
            case "score": i.score = try optionalNumber(&reader, key)
            case "frame": i.frame = try optionalNumber(&reader, key).map { Int($0) }
            case "track": i.track = try optionalNumber(&reader, key).map { Int($0) }
            case "attributes": i.attributes = try jsonObject(&reader, key)
            case "metadata": i.metadata = try jsonObject(&reader, key)
            case "creator": i.creator = try optionalString(&reader, key)
            case "created_at": i.createdAt = try timestamp(&reader, key)
            case "updated_at": i.updatedAt = try timestamp(&reader, key)
            case "deleted": i.isDeleted = try bool(&reader, key)
            default: try reader.skipValue()
            }
        }
        guard hasID else { throw WireError.missing("instance.id") }
        return i
    }

    static func geometry(_ reader: inout JSONReader) throws -> Geometry {
        var g = Geometry()
        try object(&reader, "geometry") { reader, key in
            switch key {
            case "polygon":
                var rings: [[Double]] = []
                try array(&reader, key) { reader in rings.append(try numbers(&reader, key)) }
                g.polygon = rings
            case "mask":
                var height = 0, width = 0
                var counts = RLEMask.Counts.runs([])
                try object(&reader, key) { reader, member in
                    switch member {
                    case "size":
                        let size = try numbers(&reader, member)
                        guard size.count == 2 else { throw WireError.invalid("mask.size", "\(size.count) numbers") }
                        height = Int(size[0])
                        width = Int(size[1])
                    case "counts":
                        switch try reader.next() {
                        case .string(let s): counts = .compressed(s)
                        case let token:
                            reader.lookahead = token
                            counts = .runs(try numbers(&reader, member).map { Int($0) })
                        }
                    default: try reader.skipValue()
                    }
                }
                g.mask = RLEMask(height: height, width: width, counts: counts)
            case "keypoints":
                var points: [Keypoint] = []
                try array(&reader, key) { reader in
                    let v = try numbers(&reader, key)
                    guard v.count == 3 else { throw WireError.invalid("keypoints", "\(v.count) numbers") }
                    points.append(Keypoint(x: v[0], y: v[1], visibility: Int(v[2])))
                }
                g.keypoints = points
            case "points": g.points = try pointList(&reader, key)
            case "line": g.line = try pointList(&reader, key)
            case "ellipse":
                var e = Ellipse(centerX: 0, centerY: 0, radiusX: 0, radiusY: 0)
                try object(&reader, key) { reader, member in
                    switch member {
                    case "cx": e.centerX = try number(&reader, member)
                    case "cy": e.centerY = try number(&reader, member)
                    case "rx": e.radiusX = try number(&reader, member)
                    case "ry": e.radiusY = try number(&reader, member)
                    case "angle": e.angle = try number(&reader, member)
                    default: try reader.skipValue()
                    }
                }
                g.ellipse = e
            case "cuboid":
                var c = Cuboid(front: [], back: [])
                try object(&reader, key) { reader, member in
                    switch member {
                    case "front": c.front = try pointList(&reader, member)
                    case "back": c.back = try pointList(&reader, member)
                    default: try reader.skipValue()
                    }
                }
                g.cuboid = c
            case "span":
                let v = try numbers(&reader, key)
                guard v.count == 2, let start = Int(exactly: v[0]), let end = Int(exactly: v[1]) else {
                    throw WireError.invalid("span", "expected [start, end] as two integers")
                }
                g.span = TextSpan(start: start, end: end)
            default: try reader.skipValue()
            }
        }
        return g
    }

    // MARK: Primitives

    static func object(
        _ reader: inout JSONReader, _ what: String, _ member: (inout JSONReader, String) throws -> Void
    ) throws {
        guard try reader.next() == .beginObject else { throw WireError.invalid(what, "not an object") }
        while true {
            switch try reader.next() {
            case .endObject: return
            case .key(let key): try member(&reader, key)
            default: throw WireError.invalid(what, "malformed object")
            }
        }
    }

    static func array(_ reader: inout JSONReader, _ what: String, _ element: (inout JSONReader) throws -> Void) throws {
        guard try reader.next() == .beginArray else { throw WireError.invalid(what, "not an array") }
        while true {
            let token = try reader.next()
            if token == .endArray { return }
            reader.lookahead = token
            try element(&reader)
        }
    }

    static func numbers(_ reader: inout JSONReader, _ what: String) throws -> [Double] {
        guard try reader.next() == .beginArray else { throw WireError.invalid(what, "not an array of numbers") }
        var values: [Double] = []
        while true {
            switch try reader.next() {
            case .number(let n): values.append(n)
            case .endArray: return values
            default: throw WireError.invalid(what, "not an array of numbers")
            }
        }
    }

    static func pointList(_ reader: inout JSONReader, _ what: String) throws -> [Point] {
        var points: [Point] = []
        try array(&reader, what) { reader in
            let v = try numbers(&reader, what)
            guard v.count == 2 else { throw WireError.invalid(what, "a point of \(v.count) numbers") }
            points.append(Point(x: v[0], y: v[1]))
        }
        return points
    }

    static func number(_ reader: inout JSONReader, _ what: String) throws -> Double {
        guard case .number(let n) = try reader.next() else { throw WireError.invalid(what, "not a number") }
        return n
    }

    static func optionalNumber(_ reader: inout JSONReader, _ what: String) throws -> Double? {
        switch try reader.next() {
        case .number(let n): return n
        case .null: return nil
        default: throw WireError.invalid(what, "not a number")
        }
    }

    static func int(_ reader: inout JSONReader, _ what: String) throws -> Int { Int(try int64(&reader, what)) }

    /// A whole number; one past Int64's range (or with a fraction) is refused, never trapped on.
    static func int64(_ reader: inout JSONReader, _ what: String) throws -> Int64 {
        let number = try number(&reader, what)
        guard let value = Int64(exactly: number) else { throw WireError.invalid(what, "not a 64-bit integer: \(number)") }
        return value
    }

    static func string(_ reader: inout JSONReader, _ what: String) throws -> String {
        guard case .string(let s) = try reader.next() else { throw WireError.invalid(what, "not a string") }
        return s
    }

    static func optionalString(_ reader: inout JSONReader, _ what: String) throws -> String? {
        switch try reader.next() {
        case .string(let s): return s
        case .null: return nil
        default: throw WireError.invalid(what, "not a string")
        }
    }

    static func bool(_ reader: inout JSONReader, _ what: String) throws -> Bool {
        guard case .bool(let b) = try reader.next() else { throw WireError.invalid(what, "not a boolean") }
        return b
    }

    static func timestamp(_ reader: inout JSONReader, _ what: String) throws -> Timestamp {
        let text = try string(&reader, what)
        guard let t = Timestamp(iso8601: text) else { throw WireError.invalid(what, text) }
        return t
    }

    static func jsonObject(_ reader: inout JSONReader, _ what: String) throws -> [String: JSONValue] {
        switch try reader.readValue() {
        case .object(let o): return o
        case .null: return [:]
        default: throw WireError.invalid(what, "not an object")
        }
    }
}

/// A reply that is not in the wire format.
public enum WireError: Error, Equatable, CustomStringConvertible {
    case missing(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .missing(let field): "missing \(field)"
        case .invalid(let field, let detail): "invalid \(field): \(detail)"
        }
    }
}
