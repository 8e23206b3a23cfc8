import Foundation
import SluiceModel
import SluiceStore

extension LabelMeImporter {
    /// Largest labelme JSON read: `imageData` holds the whole image, base64.
    static let maxJSONBytes = 64 << 20

    /// A labelme JSON as read before its rows are written: checked, its image stored.
    struct PreparedJSON: Sendable {
        var annotation: LabelMeJSONAnnotation
        var bytes: Int
        /// The image's path relative to PATH (or to --images): its name in the dataset.
        var name: String
        var media: StoredMedia?
    }

    /// Reads and checks one labelme JSON and stores its image (the file beside it, else its
    /// `imageData`): no database, so a `Lookahead` does it ahead of the writer.
    func prepareJSON(_ relative: String, root: String, media: MediaStore) throws -> PreparedJSON {
        let data = try FolderFiles.read(
            (root as NSString).appendingPathComponent(relative), relative: relative, limit: Self.maxJSONBytes)
        var annotation = try LabelMeJSONAnnotation(bytes: [UInt8](data), file: relative)
        let folder = (relative as NSString).deletingLastPathComponent
        let name: String
        if let imagePath = annotation.imagePath, !imagePath.isEmpty {
            name = try Self.joined(
                imagesDirectory == nil ? folder : "", imagePath,
                field: "\(relative):\(annotation.lines["imagePath"] ?? 0): imagePath")
        } else {
            name = (relative as NSString).deletingPathExtension + ".jpg"
        }
        let base = imagesDirectory ?? root
        let imagePath = try ConfinedPath.resolve(
            name, in: base, field: "\(relative):\(annotation.lines["imagePath"] ?? 0): imagePath")
        var mediaPath: String? = FileManager.default.fileExists(atPath: imagePath) ? imagePath : nil
        var staged: String?
        defer { if let staged { try? FileManager.default.removeItem(atPath: staged) } }
        if mediaPath == nil, let text = annotation.imageData {
            guard let bytes = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
                throw ImportError.invalid(
                    file: relative, line: annotation.lines["imageData"] ?? 0, path: "imageData", message: "is not base64")
            }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-labelme-\(UUID().uuidString)").path
            guard FileManager.default.createFile(atPath: path, contents: bytes) else { throw ImportError.unreadable(path: path) }
            staged = path
            mediaPath = path
        }
        let stored = try mediaPath.map { try media.put(fileAt: $0) }
        // Stored now: the window ahead holds shapes, not up to 64 MB of base64 per file.
        annotation.imageData = nil
        return PreparedJSON(annotation: annotation, bytes: data.count, name: name, media: stored)
    }

    /// One labelme JSON, prepared: a file for its image, an instance per shape.
    func importJSON(_ prepared: PreparedJSON, into run: inout FolderImportRun) throws {
        let annotation = prepared.annotation
        run.advance(bytes: prepared.bytes)
        var metadata: [String: JSONValue] = [:]
        if !annotation.flags.isEmpty { metadata["labelme_flags"] = .object(annotation.flags) }
        let file = try run.addFile(
            name: prepared.name, stored: prepared.media, width: annotation.width, height: annotation.height, metadata: metadata)
        for shape in annotation.shapes {
            var instance = NewInstance(
                fileID: file.id, labelID: try run.label(shape.label), kind: .box, bbox: nil, attributes: shape.flags)
            if let group = shape.groupID { instance.metadata["labelme_group_id"] = .number(Double(group)) }
            if let description = shape.description { instance.metadata["labelme_description"] = .string(description) }
            switch shape.type {
            case .rectangle:
                instance.bbox = BoundingBox(enclosing: shape.points)
            case .polygon:
                instance.kind = .polygon
                instance.geometry = Geometry(polygon: [shape.points.flatMap { [$0.x, $0.y] }])
            case .point:
                instance.kind = .point
                instance.geometry = Geometry(points: shape.points)
            case .line, .linestrip:
                instance.kind = .line
                instance.geometry = Geometry(line: shape.points)
                // A two-point linestrip would come back as a line; say which it was.
                if shape.type == .linestrip { instance.metadata["labelme_shape_type"] = .string("linestrip") }
            case .circle:
                // labelme's circle is its centre and a point on it: an ellipse of equal radii.
                let (center, edge) = (shape.points[0], shape.points[1])
                let radius = ((edge.x - center.x) * (edge.x - center.x) + (edge.y - center.y) * (edge.y - center.y)).squareRoot()
                instance.kind = .ellipse
                instance.geometry = Geometry(ellipse: Ellipse(centerX: center.x, centerY: center.y, radiusX: radius, radiusY: radius))
            }
            if instance.bbox == nil { instance.bbox = instance.geometry.bounds(for: instance.kind) }
            try run.addInstance(instance)
        }
    }

    /// `path` (labelme writes `\` on Windows) joined to `folder` with `.` and `..` resolved,
    /// refused naming `field` when it is absolute or climbs out of the folder being imported.
    static func joined(_ folder: String, _ path: String, field: String) throws -> String {
        func refuse(_ why: String) -> ImportError { .unsafePath(path: field, file: path, reason: why) }
        guard !path.hasPrefix("/"), !path.hasPrefix("\\"), !(path.count > 1 && path.dropFirst().first == ":") else {
            throw refuse("it is absolute")
        }
        guard !path.contains("\0") else { throw refuse("it holds a NUL byte") }
        var parts = folder.split(separator: "/").map(String.init)
        for part in path.split(whereSeparator: { $0 == "/" || $0 == "\\" }) where part != "." {
            if part == ".." {
                guard !parts.isEmpty else { throw refuse("it climbs out of the folder with '..'") }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        guard !parts.isEmpty else { throw refuse("it names no file") }
        return parts.joined(separator: "/")
    }
}
