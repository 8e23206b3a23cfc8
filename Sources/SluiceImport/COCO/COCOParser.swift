import SluiceModel
import SluiceStore

/// Reads a COCO file into `COCORecord`s in file order, checking every value's shape.
/// Errors name the JSON path and line: `annotations[1041].bbox: expected 4 numbers (line 5012)`.
struct COCOParser {
    /// Parses the whole document, passing each record to `emit` as soon as it is complete.
    static func parse(_ reader: inout JSONReader, emit: (COCORecord, _ bytesRead: Int) throws -> Void) throws {
        let first = try reader.token(at: "$")
        if first == .beginArray {
            throw reader.malformed("$", "a COCO dataset object; this is an array (a results file?)")
        }
        guard first == .beginObject else { throw reader.malformed("$", "a COCO dataset object") }
        reader.lookahead = first
        try reader.readObject(at: "$") { reader, key in
            switch key {
            case "categories":
                try reader.readArray(at: "categories") { reader, i in
                    try emit(.category(try category(&reader, index: i)), reader.bytesRead)
                }
            case "images":
                try reader.readArray(at: "images") { reader, i in
                    try emit(.image(try image(&reader, index: i)), reader.bytesRead)
                }
            case "annotations":
                try reader.readArray(at: "annotations") { reader, i in
                    try emit(.annotation(try annotation(&reader, index: i)), reader.bytesRead)
                }
            default:
                try reader.skipAnyValue(at: key)
            }
        }
        guard try reader.token(at: "$") == .end else { throw reader.malformed("$", "the end of the file") }
    }

    static func category(_ reader: inout JSONReader, index: Int) throws -> COCOCategory {
        let path = "categories[\(index)]"
        var id: Int64?
        var label = NewLabel(name: "")
        var hasName = false
        try reader.readObject(at: path) { reader, key in
            let at = "\(path).\(key)"
            switch key {
            case "id": id = try reader.readInteger(at: at)
            case "name":
                label.name = try reader.readString(at: at)
                hasName = true
            case "supercategory": label.supercategory = try reader.readOptionalString(at: at)
            case "keypoints":
                var names: [String] = []
                try reader.readArray(at: at) { reader, k in names.append(try reader.readString(at: "\(at)[\(k)]")) }
                label.keypointNames = names
            case "skeleton":
                var edges: [[Int]] = []
                try reader.readArray(at: at) { reader, k in
                    let pair = try reader.readNumbers(at: "\(at)[\(k)]", expected: "a pair of keypoint numbers")
                    guard pair.count == 2 else { throw reader.malformed("\(at)[\(k)]", "a pair of keypoint numbers") }
                    edges.append(pair.map { Int($0) })
                }
                label.skeleton = edges
            case "color": label.color = try reader.readOptionalString(at: at)
            default: try reader.skipAnyValue(at: at)
            }
        }
        guard let id else { throw reader.malformed("\(path).id", "an integer category id") }
        label.sourceID = id
        guard hasName, !label.name.isEmpty else { throw reader.malformed("\(path).name", "a category name") }
        return COCOCategory(index: index, id: id, label: label)
    }

    static func image(_ reader: inout JSONReader, index: Int) throws -> COCOImage {
        let path = "images[\(index)]"
        var id: Int64?
        var fileName: String?
        var width: Int?
        var height: Int?
        var metadata: [String: JSONValue] = [:]
        try reader.readObject(at: path) { reader, key in
            let at = "\(path).\(key)"
            switch key {
            case "id": id = try reader.readInteger(at: at)
            case "file_name": fileName = try reader.readString(at: at)
            case "width": width = Int(try reader.readInteger(at: at))
            case "height": height = Int(try reader.readInteger(at: at))
            default: metadata[key] = try reader.readAnyValue(at: at)
            }
        }
        guard let id else { throw reader.malformed("\(path).id", "an integer image id") }
        guard let fileName else { throw reader.malformed("\(path).file_name", "a file name") }
        metadata["coco_id"] = .number(Double(id))
        return COCOImage(index: index, id: id, fileName: fileName, width: width, height: height, metadata: metadata)
    }

    static func annotation(_ reader: inout JSONReader, index: Int) throws -> COCOAnnotation {
        let path = "annotations[\(index)]"
        var imageID: Int64?
        var categoryID: Int64?
        var bbox: BoundingBox?
        var polygon: [[Double]]?
        var mask: RLEMask?
        var keypoints: [Keypoint]?
        var area: Double?
        var isCrowd = false
        var score: Double?
        var attributes: [String: JSONValue] = [:]
        var metadata: [String: JSONValue] = [:]
        try reader.readObject(at: path) { reader, key in
            let at = "\(path).\(key)"
            switch key {
            case "image_id": imageID = try reader.readInteger(at: at)
            case "category_id": categoryID = try reader.readInteger(at: at)
            case "bbox":
                let v = try reader.readNumbers(at: at, expected: "4 numbers")
                guard v.count == 4 else { throw reader.malformed(at, "4 numbers") }
                guard v[2] >= 0, v[3] >= 0 else { throw reader.malformed(at, "a non-negative width and height") }
                bbox = BoundingBox(cocoX: v[0], y: v[1], width: v[2], height: v[3])
            case "segmentation":
                switch try reader.nextValueToken(at: at) {
                case .beginArray:
                    reader.lookahead = .beginArray
                    var rings: [[Double]] = []
                    try reader.readArray(at: at) { reader, r in
                        let ring = try reader.readNumbers(at: "\(at)[\(r)]", expected: "a list of x, y numbers")
                        guard ring.count % 2 == 0 else {
                            throw reader.malformed("\(at)[\(r)]", "an even count of numbers (x, y pairs)")
                        }
                        rings.append(ring)
                    }
                    // COCO writes `[]` for "no outline".
                    if !rings.isEmpty { polygon = rings }
                case .beginObject:
                    reader.lookahead = .beginObject
                    mask = try rle(&reader, at: at)
                case .null: break
                default: throw reader.malformed(at, "polygons (a list of lists) or an RLE object")
                }
            case "keypoints":
                let v = try reader.readNumbers(at: at, expected: "a list of x, y, visibility numbers")
                guard v.count % 3 == 0 else { throw reader.malformed(at, "a multiple of 3 numbers (x, y, visibility)") }
                keypoints = stride(from: 0, to: v.count, by: 3).map {
                    Keypoint(x: v[$0], y: v[$0 + 1], visibility: Int(v[$0 + 2]))
                }
            case "area": area = try reader.readOptionalNumber(at: at)
            case "iscrowd": isCrowd = try reader.readFlag(at: at)
            case "score": score = try reader.readOptionalNumber(at: at)
            case "id": metadata["coco_id"] = .number(Double(try reader.readInteger(at: at)))
            case "caption": attributes["caption"] = .string(try reader.readString(at: at))
            case "attributes":
                guard case .object(let values) = try reader.readAnyValue(at: at) else {
                    throw reader.malformed(at, "an object of attribute values")
                }
                attributes.merge(values) { _, new in new }
            default: metadata[key] = try reader.readAnyValue(at: at)
            }
        }
        guard let imageID else { throw reader.malformed("\(path).image_id", "an integer image id") }
        let kind: InstanceKind =
            if keypoints != nil { .keypoints }
            else if mask != nil { .mask }
            else if polygon != nil { .polygon }
            else if bbox != nil { .box }
            else { .global }
        let geometry = Geometry(polygon: polygon, mask: mask, keypoints: keypoints)
        return COCOAnnotation(
            index: index, imageID: imageID, categoryID: categoryID, kind: kind,
            bbox: bbox ?? geometry.bounds(for: kind), geometry: geometry, area: area, isCrowd: isCrowd, score: score,
            attributes: attributes, metadata: metadata)
    }

    static func rle(_ reader: inout JSONReader, at path: String) throws -> RLEMask {
        var size: [Double]?
        var counts: RLEMask.Counts?
        try reader.readObject(at: path) { reader, key in
            let at = "\(path).\(key)"
            switch key {
            case "size": size = try reader.readNumbers(at: at, expected: "[height, width]")
            case "counts":
                switch try reader.nextValueToken(at: at) {
                case .string(let s): counts = .compressed(s)
                case .beginArray:
                    reader.lookahead = .beginArray
                    counts = .runs(try reader.readNumbers(at: at, expected: "run lengths").map { Int($0) })
                default: throw reader.malformed(at, "run lengths or a compressed RLE string")
                }
            default: try reader.skipAnyValue(at: at)
            }
        }
        guard let size, size.count == 2 else { throw reader.malformed("\(path).size", "[height, width]") }
        guard let counts else { throw reader.malformed("\(path).counts", "run lengths") }
        return RLEMask(height: Int(size[0]), width: Int(size[1]), counts: counts)
    }
}
