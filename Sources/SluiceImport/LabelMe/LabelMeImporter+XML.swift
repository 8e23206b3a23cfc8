import Foundation
import SluiceModel
import SluiceStore

extension LabelMeImporter {
    /// A MIT LabelMe XML as read before its rows are written: parsed, its image stored, its
    /// masks decoded and checked (as COCO RLE: a window of decoded pixels could be gigabytes).
    struct PreparedXML: Sendable {
        var relative: String
        var annotation: LabelMeXMLAnnotation
        var bytes: Int
        var subset: String?
        var media: StoredMedia?
        /// Object index → its mask.
        var masks: [Int: (rle: RLEMask, bounds: BoundingBox?, area: Int)]
    }

    /// Reads one MIT LabelMe XML, stores its image and decodes its masks: no database, so a
    /// `Lookahead` does it ahead of the writer.
    func prepareXML(_ relative: String, root: String, media: MediaStore) throws -> PreparedXML {
        let data = try FolderFiles.read((root as NSString).appendingPathComponent(relative), relative: relative)
        let annotation = try LabelMeXMLAnnotation(XMLTree.parse(data, file: relative), file: relative)
        // Datumaro takes the subset (and the image's subfolder) from <folder>; without one, the
        // subfolder the XML is in below Annotations/ says the same.
        var components = relative.split(separator: "/").map(String.init).dropLast()
        if components.first == "Annotations" { components = components.dropFirst() }
        let subset = annotation.folder ?? (components.isEmpty ? nil : components.joined(separator: "/"))
        let images = imagesDirectory ?? (root as NSString).appendingPathComponent("Images")
        let imageRelative = subset.map { "\($0)/\(annotation.filename)" } ?? annotation.filename
        let imagePath = try ConfinedPath.resolve(imageRelative, in: images, field: "\(relative): annotation/filename")
        let stored = FileManager.default.fileExists(atPath: imagePath) ? try media.put(fileAt: imagePath) : nil
        let size = (annotation.width ?? stored?.width).flatMap { w in (annotation.height ?? stored?.height).map { (w, $0) } }
        let masksFolder = (root as NSString).appendingPathComponent("Masks")
        var masks: [Int: (rle: RLEMask, bounds: BoundingBox?, area: Int)] = [:]
        for (index, object) in annotation.objects.enumerated() {
            guard case .mask(let name) = object.shape else { continue }
            func fault(_ message: String) -> ImportError {
                .invalid(file: relative, line: object.line, path: "annotation/object[\(index + 1)]/segm/mask", message: message)
            }
            guard let maskDecoder else { throw fault("masks need a PNG decoder, and this import has none") }
            let maskRelative = subset.map { "\($0)/\(name)" } ?? name
            let maskPath = try ConfinedPath.resolve(
                maskRelative, in: masksFolder, field: "\(relative): annotation/object[\(index + 1)]/segm/mask")
            guard FileManager.default.fileExists(atPath: maskPath) else { throw fault("mask image not found: Masks/\(maskRelative)") }
            guard FolderFiles.size(maskPath) <= FolderFiles.maxAnnotationBytes else {
                throw fault("Masks/\(maskRelative) is larger than \(FolderFiles.maxAnnotationBytes) bytes")
            }
            let decoded: (width: Int, height: Int, pixels: [UInt8])
            do {
                decoded = try maskDecoder(maskPath)
            } catch {
                throw fault("Masks/\(maskRelative) is not a mask image: \(error)")
            }
            let mask = BinaryMask(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
            if let (width, height) = size, (width, height) != (mask.width, mask.height) {
                throw fault("Masks/\(maskRelative) is \(mask.width) × \(mask.height) pixels, the image \(width) × \(height)")
            }
            masks[index] = (mask.rle, mask.bounds, mask.setCount)
        }
        return PreparedXML(relative: relative, annotation: annotation, bytes: data.count, subset: subset, media: stored, masks: masks)
    }

    /// One MIT LabelMe XML, prepared: a file for its image, an instance per object not deleted.
    func importXML(_ prepared: PreparedXML, into run: inout FolderImportRun) throws {
        let annotation = prepared.annotation
        run.advance(bytes: prepared.bytes)
        var metadata: [String: JSONValue] = [:]
        if let subset = prepared.subset { metadata["subset"] = .string(subset) }
        let file = try run.addFile(
            name: annotation.filename, stored: prepared.media, width: annotation.width, height: annotation.height, metadata: metadata)
        for (index, object) in annotation.objects.enumerated() {
            var metadata: [String: JSONValue] = [:]
            if let id = object.id { metadata["labelme_id"] = .number(Double(id)) }
            if !object.hasParts.isEmpty { metadata["labelme_hasparts"] = .array(object.hasParts.map { .number(Double($0)) }) }
            if !object.isPartOf.isEmpty { metadata["labelme_ispartof"] = .array(object.isPartOf.map { .number(Double($0)) }) }
            let labelID = object.name.isEmpty ? nil : try run.label(object.name)
            var instance = NewInstance(
                fileID: file.id, labelID: labelID, kind: .box, bbox: nil, attributes: object.attributes, metadata: metadata,
                creator: object.username)
            switch object.shape {
            case .box(let box):
                instance.bbox = box
            case .polygon(let points):
                instance.kind = .polygon
                instance.geometry = Geometry(polygon: [points])
                instance.bbox = instance.geometry.bounds(for: .polygon)
            case .mask:
                guard let mask = prepared.masks[index] else { preconditionFailure("prepareXML decodes every mask") }
                instance.kind = .mask
                instance.geometry = Geometry(mask: mask.rle)
                instance.bbox = mask.bounds ?? BoundingBox(xMin: 0, yMin: 0, xMax: 0, yMax: 0)
                instance.area = Double(mask.area)
            }
            try run.addInstance(instance)
        }
    }
}

extension LabelMeImporter {
    /// Largest mask image decoded (pixels): a mask is one byte a pixel while it is encoded.
    public static let maxMaskPixels = BinaryMask.maxPixels
}
