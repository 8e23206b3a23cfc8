import SluiceModel
import SluiceStore

/// One element of a COCO file as the parser reads it, before ids are mapped to the store's.
enum COCORecord: Sendable {
    case category(COCOCategory)
    case image(COCOImage)
    case annotation(COCOAnnotation)
}

struct COCOCategory: Sendable {
    /// Position in `categories`, for error paths.
    var index: Int
    var id: Int64
    var label: NewLabel
}

struct COCOImage: Sendable {
    var index: Int
    var id: Int64
    var fileName: String
    var width: Int?
    var height: Int?
    /// Fields other than id, file name and size; `coco_id` added.
    var metadata: [String: JSONValue]
}

struct COCOAnnotation: Sendable {
    var index: Int
    var imageID: Int64
    var categoryID: Int64?
    var kind: InstanceKind
    var bbox: BoundingBox?
    var geometry: Geometry
    var area: Double?
    var isCrowd: Bool
    var score: Double?
    var attributes: [String: JSONValue]
    var metadata: [String: JSONValue]
}
