import Foundation
import SluiceModel
import SluiceStore

/// Imports a YOLO folder (darknet, Ultralytics or loose layout, see `YOLOLayout`) into a
/// dataset, in one transaction, one label file in memory at a time.
///
/// Each image becomes a file named by its path in the folder, with its subset in the metadata;
/// each line `class cx cy w h` a box, each line `class x1 y1 x2 y2 x3 y3 …` a polygon. YOLO's
/// coordinates are fractions of the image: they become pixels with the size read from the
/// image's own header, so every image must be there.
public struct YOLOImporter: Sendable {
    public var progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked before each file; true stops the import with nothing kept (a server whose client went away).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.progress = progress
    }

    public func importFolder(at root: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let layout = try YOLOLayout(root: root)
        let totalBytes = layout.images.reduce(0) { $0 + FolderFiles.size((root as NSString).appendingPathComponent($1.labels)) }
        let progress = self.progress
        return try await store.timedImport(projectID: projectID, datasetName: datasetName) { writer in
            var run = FolderImportRun(writer: writer, totalBytes: totalBytes, progress: progress, isCancelled: isCancelled)
            let labels = try layout.names.map { try run.label($0) }
            let media = writer.media
            let images = layout.images
            let prepared = Lookahead(count: images.count) { index in try Self.prepare(images[index], layout: layout, media: media) }
            defer { prepared.stop() }
            for image in images {
                try Self.importImage(image, prepared: try prepared.next(), layout: layout, labels: labels, into: &run)
            }
            return run.finish()
        }
    }

    /// An image as read before its rows are written: its media stored, its label file's lines.
    struct PreparedImage: Sendable {
        var media: StoredMedia
        /// nil when the image has no label file (no objects).
        var lines: [(number: Int, text: Substring)]?
        var labelBytes: Int
    }

    /// Stores image `image`'s media and reads its label file: no database, so a `Lookahead`
    /// does it ahead of the writer. Faults are the ones `importImage` would meet, in its order.
    static func prepare(_ image: YOLOLayout.Image, layout: YOLOLayout, media: MediaStore) throws -> PreparedImage {
        let imagePath = try ConfinedPath.resolve(image.image, in: layout.root, field: image.labels)
        guard FileManager.default.fileExists(atPath: imagePath) else {
            throw ImportError.missingMedia(path: image.labels, file: image.image)
        }
        let stored = try media.put(fileAt: imagePath)
        let labelsPath = try ConfinedPath.resolve(image.labels, in: layout.root, field: image.image)
        guard FileManager.default.fileExists(atPath: labelsPath) else { return PreparedImage(media: stored, lines: nil, labelBytes: 0) }
        let lines = try FolderFiles.lines(labelsPath, relative: image.labels)
        return PreparedImage(media: stored, lines: lines, labelBytes: FolderFiles.size(labelsPath))
    }

    static func importImage(
        _ image: YOLOLayout.Image, prepared: PreparedImage, layout: YOLOLayout, labels: [Int64], into run: inout FolderImportRun
    ) throws {
        let file = try run.addFile(name: image.image, stored: prepared.media, metadata: ["subset": .string(image.subset)])
        guard let width = file.width, let height = file.height, width > 0, height > 0 else {
            throw ImportError.invalid(
                file: image.image, line: 0, path: "", message: "the image's size cannot be read from its header (needed for YOLO's fractions)")
        }
        guard let lines = prepared.lines else { return }
        for (number, line) in lines {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard !fields.isEmpty else { continue }
            func fault(_ message: String) -> ImportError {
                .invalid(file: image.labels, line: number, path: "", message: message)
            }
            guard let index = Int(fields[0]), labels.indices.contains(index) else {
                throw fault("class '\(fields[0])' is not one of the \(labels.count) classes of \(layout.kind == .ultralytics ? "data.yaml" : "obj.names")")
            }
            var values: [Double] = []
            for field in fields.dropFirst() {
                guard let value = Double(field), value.isFinite else { throw fault("expected a number, got '\(field)'") }
                guard (-0.001...1.001).contains(value) else { throw fault("coordinates are fractions of the image (0 to 1), got \(field)") }
                values.append(value)
            }
            let w = Double(width), h = Double(height)
            if values.count == 4 {
                let box = BoundingBox(
                    xMin: (values[0] - values[2] / 2) * w, yMin: (values[1] - values[3] / 2) * h,
                    xMax: (values[0] + values[2] / 2) * w, yMax: (values[1] + values[3] / 2) * h)
                try run.addInstance(NewInstance(fileID: file.id, labelID: labels[index], kind: .box, bbox: box))
            } else if values.count >= 6, values.count.isMultiple(of: 2) {
                let ring = values.enumerated().map { $0.offset.isMultiple(of: 2) ? $0.element * w : $0.element * h }
                let geometry = Geometry(polygon: [ring])
                try run.addInstance(
                    NewInstance(
                        fileID: file.id, labelID: labels[index], kind: .polygon, bbox: geometry.bounds(for: .polygon),
                        geometry: geometry))
            } else {
                throw fault("expected 'class cx cy w h' or 'class x1 y1 x2 y2 x3 y3 …', got \(values.count) numbers after the class")
            }
        }
        run.advance(bytes: prepared.labelBytes)
    }
}
