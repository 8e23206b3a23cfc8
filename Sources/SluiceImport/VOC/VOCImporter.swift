import Foundation
import SluiceModel
import SluiceStore

/// Imports a Pascal VOC folder (`Annotations/*.xml`, `JPEGImages/`, `ImageSets/`, and the
/// `labelmap.txt` Datumaro and CVAT write) into a dataset, in one transaction, one XML in
/// memory at a time.
///
/// Every image named by an XML or by an `ImageSets` list becomes a file, in the order of the
/// sorted image ids; each `<object>` a box instance, each `<part>` a box of its own label whose
/// metadata names its object (`voc_part_of`, 1-based). `difficult`, `truncated`, `occluded`,
/// `pose`, the `<actions>` flags and `<attributes>` pairs become attributes; the subset list an
/// image is in becomes the file's `subset` metadata.
///
/// With a `maskDecoder`, an image's `SegmentationObject/ID.png` gives its objects their masks:
/// object k's pixels (index k, 1-based in XML order) become `geometry.mask` (COCO RLE) and
/// `area` (the pixel count) on that object's box instance, which stays a box with the XML's
/// bndbox (docs/cli.md "Importing Pascal VOC and YOLO" says why). 0 is background, 255 void; an
/// index with no `<object>` is a fault naming the PNG. `SegmentationClass/` is not read: the
/// XML names the labels.
public struct VOCImporter: Sendable {
    /// Where the images are when not in `JPEGImages/`.
    public var imagesDirectory: String?
    /// Decodes `SegmentationObject/*.png`; without one, those PNGs are not read (boxes only).
    public var maskDecoder: IndexImageDecoder?
    public var progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked before each file; true stops the import with nothing kept (a server whose client went away).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(
        imagesDirectory: String? = nil, maskDecoder: IndexImageDecoder? = nil,
        progress: (@Sendable (ImportProgress) -> Void)? = nil
    ) {
        self.imagesDirectory = imagesDirectory
        self.maskDecoder = maskDecoder
        self.progress = progress
    }

    /// Largest `SegmentationObject` image decoded (pixels).
    public static let maxMaskPixels = BinaryMask.maxPixels

    public func importFolder(at root: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let layout = try VOCLayout(root: root, imagesDirectory: imagesDirectory)
        let progress = self.progress
        let maskDecoder = self.maskDecoder
        return try await store.timedImport(projectID: projectID, datasetName: datasetName) { writer in
            var run = FolderImportRun(writer: writer, totalBytes: layout.annotationBytes, progress: progress, isCancelled: isCancelled)
            for (name, color) in try layout.labelMap() { _ = try run.label(name, color: color) }
            let media = writer.media
            let ids = layout.imageIDs
            let prepared = Lookahead(count: ids.count) { index in try layout.prepare(ids[index], media: media) }
            defer { prepared.stop() }
            for id in ids {
                try Task.checkCancellation()
                try layout.importImage(id, prepared: try prepared.next(), maskDecoder: maskDecoder, into: &run)
            }
            return run.finish()
        }
    }
}

/// The parts of a VOC folder, found before the transaction starts.
struct VOCLayout: Sendable {
    let root: String
    let images: String
    /// Image ids (file stems), sorted: from `Annotations/` and the `ImageSets` lists.
    let imageIDs: [String]
    /// Image id → subset (`train`, `val`, …) from `ImageSets/*/SUBSET.txt`.
    let subsets: [String: String]
    /// Image id → its file in the images folder.
    let imageFiles: [String: String]
    let annotationBytes: Int

    init(root: String, imagesDirectory: String?) throws {
        self.root = root
        guard FolderFiles.isDirectory(root) else { throw ImportError.unreadable(path: root) }
        images = imagesDirectory ?? (root as NSString).appendingPathComponent("JPEGImages")
        let annotations = (root as NSString).appendingPathComponent("Annotations")
        let sets = (root as NSString).appendingPathComponent("ImageSets")
        // Every other folder format refuses a folder that is not one: so does VOC, rather than
        // import nothing from the wrong folder.
        guard FolderFiles.isDirectory(annotations) || FolderFiles.isDirectory(sets) else {
            throw ImportError.invalid(
                file: ".", line: 0, path: "", message: "not a Pascal VOC folder: expected Annotations/ or ImageSets/ in it")
        }
        let xmlFiles = FolderFiles.list(annotations, ext: "xml")
        var ids = Set(xmlFiles.map(FolderWalk.stem))
        var subsets: [String: String] = [:]
        for task in FolderWalk.folders(in: sets) {
            let folder = (sets as NSString).appendingPathComponent(task)
            // `SUBSET.txt` lists a subset; `LABEL_SUBSET.txt` (Main) are per-label lists.
            for list in FolderFiles.list(folder, ext: "txt") where !list.contains("_") {
                let subset = FolderWalk.stem(list)
                let relative = "ImageSets/\(task)/\(list)"
                for (number, line) in try FolderFiles.lines(
                    (folder as NSString).appendingPathComponent(list), relative: relative, limit: FolderFiles.maxListBytes) {
                    // Layout and Action lists add an object index after the id.
                    guard let id = line.split(separator: " ").first.map(String.init), !id.isEmpty else { continue }
                    guard !id.contains("/"), !id.contains("\\"), id != "..", !id.contains("\0") else {
                        throw ImportError.invalid(file: relative, line: number, path: "", message: "'\(id)' is not an image id")
                    }
                    ids.insert(id)
                    subsets[id] = subsets[id] ?? subset
                }
            }
        }
        imageIDs = ids.sorted()
        self.subsets = subsets
        var imageFiles: [String: String] = [:]
        for name in FolderWalk.files(in: images, maxDepth: 0, includingLinks: true) {
            let id = FolderWalk.stem(name)
            if imageFiles[id] == nil { imageFiles[id] = name }
        }
        self.imageFiles = imageFiles
        annotationBytes = xmlFiles.reduce(0) {
            $0 + FolderFiles.size((annotations as NSString).appendingPathComponent($1))
        }
    }

    /// `labelmap.txt`: `name:r,g,b:parts:actions` per line, `#` comments; empty when absent.
    func labelMap() throws -> [(name: String, color: String?)] {
        let path = (root as NSString).appendingPathComponent("labelmap.txt")
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        var labels: [(String, String?)] = []
        for (number, line) in try FolderFiles.lines(path, relative: "labelmap.txt") {
            let text = line.trimmed()
            guard !text.isEmpty, !text.hasPrefix("#") else { continue }
            let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard let name = fields.first, !name.isEmpty else {
                throw ImportError.invalid(file: "labelmap.txt", line: number, path: "", message: "a label needs a name")
            }
            var color: String?
            if fields.count > 1, !fields[1].isEmpty {
                let rgb = fields[1].split(separator: ",").compactMap { Int($0.trimmed()) }
                guard rgb.count == 3, rgb.allSatisfy({ (0...255).contains($0) }) else {
                    throw ImportError.invalid(
                        file: "labelmap.txt", line: number, path: name, message: "expected a colour r,g,b (0–255), got '\(fields[1])'")
                }
                color = String(format: "#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
            }
            labels.append((name, color))
        }
        return labels
    }

    /// An image as read before its rows are written: its XML checked and its media stored.
    struct PreparedImage: Sendable {
        var annotation: VOCAnnotation?
        var annotationBytes: Int
        var imageName: String
        var media: StoredMedia?
    }

    /// Reads and checks image `id`'s XML and stores its media: no database, so a `Lookahead`
    /// does it ahead of the writer. Faults are the ones `importImage` would meet, in its order.
    func prepare(_ id: String, media: MediaStore) throws -> PreparedImage {
        let xmlPath = ((root as NSString).appendingPathComponent("Annotations") as NSString).appendingPathComponent("\(id).xml")
        let relative = "Annotations/\(id).xml"
        var annotation: VOCAnnotation?
        var bytes = 0
        if FileManager.default.fileExists(atPath: xmlPath) {
            let data = try FolderFiles.read(xmlPath, relative: relative)
            annotation = try VOCAnnotation(XMLTree.parse(data, file: relative), file: relative)
            bytes = data.count
        }
        let imageName = annotation?.filename ?? imageFiles[id] ?? "\(id).jpg"
        let imagePath = try ConfinedPath.resolve(imageName, in: images, field: "\(relative): annotation/filename")
        let stored = FileManager.default.fileExists(atPath: imagePath) ? try media.put(fileAt: imagePath) : nil
        return PreparedImage(annotation: annotation, annotationBytes: bytes, imageName: imageName, media: stored)
    }

    func importImage(
        _ id: String, prepared: PreparedImage, maskDecoder: IndexImageDecoder? = nil, into run: inout FolderImportRun
    ) throws {
        let annotation = prepared.annotation
        run.advance(bytes: prepared.annotationBytes)
        var metadata: [String: JSONValue] = [:]
        if let subset = subsets[id] { metadata["subset"] = .string(subset) }
        let file = try run.addFile(
            name: prepared.imageName, stored: prepared.media, width: annotation?.width, height: annotation?.height,
            metadata: metadata)
        let objects = annotation?.objects ?? []
        let masks = try maskDecoder.map { try objectMasks(id, objects: objects.count, file: file, decoder: $0) } ?? [:]
        for (index, object) in objects.enumerated() {
            var instance = NewInstance(
                fileID: file.id, labelID: try run.label(object.name), kind: .box, bbox: object.box,
                attributes: object.attributes)
            if let found = masks[index + 1] {
                instance.geometry = Geometry(mask: found.mask)
                instance.area = Double(found.area)
            }
            try run.addInstance(instance)
            for part in object.parts {
                try run.addInstance(
                    NewInstance(
                        fileID: file.id, labelID: try run.label(part.name), kind: .box, bbox: part.box,
                        metadata: ["voc_part_of": .number(Double(index + 1))]))
            }
        }
    }

    /// The masks `SegmentationObject/ID.png` gives the image's objects, by 1-based object index;
    /// empty when there is no such PNG.
    func objectMasks(
        _ id: String, objects: Int, file: (id: Int64, width: Int?, height: Int?), decoder: IndexImageDecoder
    ) throws -> [Int: (mask: RLEMask, area: Int)] {
        let relative = "SegmentationObject/\(id).png"
        let path = ((root as NSString).appendingPathComponent("SegmentationObject") as NSString)
            .appendingPathComponent("\(id).png")
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        func fault(_ message: String) -> ImportError { .invalid(file: relative, line: 0, path: "", message: message) }
        guard FolderFiles.size(path) <= FolderFiles.maxAnnotationBytes else {
            throw fault("is larger than \(FolderFiles.maxAnnotationBytes) bytes")
        }
        let decoded: (width: Int, height: Int, bands: Int, samples: [UInt8])
        do {
            decoded = try decoder(path)
        } catch {
            throw fault("is not an index image: \(error)")
        }
        if let width = file.width, let height = file.height, (width, height) != (decoded.width, decoded.height) {
            throw fault("is \(decoded.width) × \(decoded.height) pixels, the image \(width) × \(height)")
        }
        let map = try VOCObjectMap(
            width: decoded.width, height: decoded.height, bands: decoded.bands, samples: decoded.samples, file: relative)
        return try map.masks(objectCount: objects, file: relative, xml: "Annotations/\(id).xml")
    }
}
