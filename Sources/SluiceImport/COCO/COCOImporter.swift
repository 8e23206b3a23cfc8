import Foundation
import SluiceModel
import SluiceStore

/// Imports a COCO annotation file (instances, keypoints, captions, image labels, detection
/// results with scores) into a dataset, streaming: one image or annotation in memory at a time.
///
/// Images become files appended in file order; categories become labels (by name, so
/// re-imports reuse them); each annotation becomes one instance whose kind is its richest
/// geometry (keypoints, then RLE mask, then polygon, then box, else a global tag).
public struct COCOImporter: Sendable {
    /// Where `file_name`s are resolved; media bytes are copied into the store when set.
    public var imagesDirectory: String?
    /// Called about twice a second with the progress so far.
    public var progress: (@Sendable (ImportProgress) -> Void)?

    public init(imagesDirectory: String? = nil, progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.imagesDirectory = imagesDirectory
        self.progress = progress
    }

    /// Imports `path` into `datasetName` of `projectID` in one transaction; on any error the
    /// store is left as it was and the error names the JSON path of the fault.
    public func importFile(at path: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let importer = self
        return try await store.performImport(projectID: projectID, datasetName: datasetName) { writer in
            try importer.run(path: path, writer: writer)
        }
    }

    /// Runs the import inside an open import transaction.
    public func run(path: String, writer: any ImportWriter) throws -> ImportSummary {
        let source = try FileByteSource(path: path)
        var reader = JSONReader(source: source, chunkSize: 1 << 20)
        var run = COCORun(
            writer: writer, totalBytes: source.size, imagesDirectory: imagesDirectory, progress: progress)
        return try run.importDocument(&reader)
    }
}

/// The state of one import: the id maps and counters; consumed by `importDocument()`.
struct COCORun {
    let writer: any ImportWriter
    let totalBytes: Int
    let imagesDirectory: String?
    let progress: (@Sendable (ImportProgress) -> Void)?

    /// COCO image id → file id.
    var files: [Int64: Int64] = [:]
    /// Files created because an annotation named them before their image: id → first path.
    var pendingImages: [Int64: String] = [:]
    /// COCO category id → label id.
    var labels: [Int64: Int64] = [:]
    var pendingCategories: [Int64: String] = [:]
    var fileCount = 0
    var instanceCount = 0
    var mediaCount = 0
    let started = Date()
    var lastReport = Date()

    init(
        writer: any ImportWriter, totalBytes: Int, imagesDirectory: String?,
        progress: (@Sendable (ImportProgress) -> Void)?
    ) {
        self.writer = writer
        self.totalBytes = totalBytes
        self.imagesDirectory = imagesDirectory
        self.progress = progress
    }

    mutating func importDocument(_ reader: inout JSONReader) throws -> ImportSummary {
        let first = try reader.token(at: "$")
        if first == .beginArray {
            throw reader.malformed("$", "a COCO dataset object; this is an array (a results file?)")
        }
        guard first == .beginObject else { throw reader.malformed("$", "a COCO dataset object") }
        reader.lookahead = first
        try reader.readObject(at: "$") { reader, key in
            switch key {
            case "categories":
                try reader.readArray(at: "categories") { reader, i in try self.importCategory(&reader, index: i) }
            case "images":
                try reader.readArray(at: "images") { reader, i in try self.importImage(&reader, index: i) }
            case "annotations":
                try reader.readArray(at: "annotations") { reader, i in try self.importAnnotation(&reader, index: i) }
            default:
                try reader.skipAnyValue(at: key)
            }
        }
        guard try reader.token(at: "$") == .end else { throw reader.malformed("$", "the end of the file") }
        if let (id, path) = pendingImages.min(by: { $0.key < $1.key }) {
            throw ImportError.unknownReference(path: path, kind: "image", id: id)
        }
        if let (id, path) = pendingCategories.min(by: { $0.key < $1.key }) {
            throw ImportError.unknownReference(path: path, kind: "category", id: id)
        }
        report(bytesRead: reader.bytesRead, force: true)
        return ImportSummary(
            datasetID: writer.datasetID, files: fileCount, instances: instanceCount, labels: Set(labels.values).count,
            media: mediaCount, seconds: Date().timeIntervalSince(started))
    }

    // MARK: Categories

    mutating func importCategory(_ reader: inout JSONReader, index: Int) throws {
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
        guard hasName, !label.name.isEmpty else { throw reader.malformed("\(path).name", "a category name") }
        if let existing = labels[id] {
            guard pendingCategories.removeValue(forKey: id) != nil else {
                throw ImportError.duplicateID(path: "\(path).id", kind: "category", id: id)
            }
            // Annotations came first and used a placeholder label: give their instances the real one.
            let real = try writer.upsertLabel(label)
            try writer.mergeLabel(existing, into: real)
            labels[id] = real
        } else {
            labels[id] = try writer.upsertLabel(label)
        }
    }

    mutating func labelID(forCategory id: Int64, path: String) throws -> Int64 {
        if let label = labels[id] { return label }
        let placeholder = try writer.upsertLabel(NewLabel(name: "coco-category-\(id)-pending-\(UUID().uuidString)"))
        labels[id] = placeholder
        pendingCategories[id] = path
        return placeholder
    }

    // MARK: Images

    mutating func importImage(_ reader: inout JSONReader, index: Int) throws {
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
        var media = Media(mimeType: MediaType.mimeType(forPath: fileName), width: width, height: height)
        if let directory = imagesDirectory {
            let mediaPath = (directory as NSString).appendingPathComponent(fileName)
            guard FileManager.default.fileExists(atPath: mediaPath) else {
                throw ImportError.missingMedia(path: "\(path).file_name", file: mediaPath)
            }
            let stored = try writer.storeMedia(at: mediaPath)
            media = Media(
                sha256: stored.sha256, mimeType: stored.mimeType, byteSize: stored.byteSize,
                width: width ?? stored.width, height: height ?? stored.height)
            mediaCount += 1
        }
        let file = NewFile(type: .image, name: fileName, media: media, metadata: metadata)
        let fileID: Int64
        if let existing = files[id] {
            guard pendingImages.removeValue(forKey: id) != nil else {
                throw ImportError.duplicateID(path: "\(path).id", kind: "image", id: id)
            }
            fileID = existing
            try writer.updateFile(id: fileID, with: file)
        } else {
            fileID = try writer.insertFile(file)
            files[id] = fileID
        }
        try writer.append(fileID: fileID)
        fileCount += 1
        report(bytesRead: reader.bytesRead)
    }

    mutating func fileID(forImage id: Int64, path: String) throws -> Int64 {
        if let file = files[id] { return file }
        // Annotations before images: hold a file row that the image fills in later.
        let placeholder = try writer.insertFile(NewFile(type: .image, name: "", media: Media()))
        files[id] = placeholder
        pendingImages[id] = path
        return placeholder
    }

    // MARK: Annotations

    mutating func importAnnotation(_ reader: inout JSONReader, index: Int) throws {
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
                    if !rings.isEmpty { polygon = rings }
                case .beginObject:
                    reader.lookahead = .beginObject
                    mask = try Self.readRLE(&reader, at: at)
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
        let fileID = try fileID(forImage: imageID, path: "\(path).image_id")
        // Captions carry category 0 with no categories; no category means no label.
        let labelID: Int64? =
            if let categoryID, !(categoryID == 0 && attributes["caption"] != nil && labels[0] == nil) {
                try labelID(forCategory: categoryID, path: "\(path).category_id")
            } else { nil }
        let kind: InstanceKind =
            if keypoints != nil { .keypoints }
            else if mask != nil { .mask }
            else if polygon != nil { .polygon }
            else if bbox != nil { .box }
            else { .global }
        let geometry = Geometry(polygon: polygon, mask: mask, keypoints: keypoints)
        try writer.insertInstance(
            NewInstance(
                fileID: fileID, labelID: labelID, kind: kind, bbox: bbox ?? geometry.bounds(for: kind),
                geometry: geometry, area: area, isCrowd: isCrowd, score: score, attributes: attributes,
                metadata: metadata))
        instanceCount += 1
        report(bytesRead: reader.bytesRead)
    }

    static func readRLE(_ reader: inout JSONReader, at path: String) throws -> RLEMask {
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

    // MARK: Progress

    mutating func report(bytesRead: Int, force: Bool = false) {
        guard let progress else { return }
        // Checking the clock every element would cost more than the insert itself.
        guard force || (fileCount + instanceCount) & 4095 == 0 else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastReport) >= 0.5 else { return }
        lastReport = now
        progress(
            ImportProgress(
                bytesRead: bytesRead, totalBytes: totalBytes, files: fileCount, instances: instanceCount,
                elapsed: now.timeIntervalSince(started)))
    }
}
