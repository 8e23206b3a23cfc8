import Foundation
import SluiceModel
import SluiceStore

/// Imports CVAT's XML (CVAT for images 1.1 and CVAT for video 1.1, as CVAT and Datumaro write
/// them) into a dataset, in one transaction, reading the XML one `<image>` or `<track>` at a
/// time so memory stays flat in the file's size.
///
/// PATH is an XML file or a folder of them (`annotations.xml`, or Datumaro's `SUBSET.xml`).
/// - Each `<image>` becomes an image file (media from `images/[SUBSET/]NAME` or `--images`), each
///   shape an instance: `box`, `polygon`, `polyline` (a line), `points`, `ellipse`, `cuboid`, and
///   `tag` (a global instance). `<attribute>`s are typed by the label's `input_type`
///   (`checkbox` → boolean, `number` → number, else text); `occluded` is an attribute too;
///   `z_order`, `group_id` and `rotation` go to the instance's metadata.
/// - `<track>`s are a video's objects: one instance per frame the object is visible on
///   (`CVATTrack` materialises the frames between keyframes as CVAT's export does), carrying its
///   `frame`, its `track` (the track id) and a `keyframe` attribute. They go to one video file
///   when the video is found (`--video`, or `<source>` beside the XML; frame count, rate and
///   size read by ffprobe), else to one frame file per frame image in `images/` (`frame_000010.png`,
///   as CVAT and Datumaro write frames), else to a video file without media.
public struct CVATImporter: Sendable {
    public var imagesDirectory: String?
    /// The video a CVAT for video XML annotates, when it is not `<source>` beside the XML.
    public var videoPath: String?
    public var progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked before each file; true stops the import with nothing kept (a server whose client went away).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(imagesDirectory: String? = nil, videoPath: String? = nil, progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.imagesDirectory = imagesDirectory
        self.videoPath = videoPath
        self.progress = progress
    }

    public func importAnnotations(at path: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let documents = try CVATDocuments(path: path)
        let importer = self
        return try await store.timedImport(projectID: projectID, datasetName: datasetName) { writer in
            var run = FolderImportRun(writer: writer, totalBytes: documents.totalLines, progress: importer.progress, isCancelled: importer.isCancelled)
            for document in documents.files {
                let reader = CVATDocumentReader(document: document, root: documents.root, importer: importer)
                try reader.read(into: &run)
            }
            return run.finish()
        }
    }
}

/// The XML files an import reads, found before the transaction starts.
struct CVATDocuments {
    struct File: Sendable {
        var path: String
        /// The path relative to the import's PATH, for errors.
        var relative: String
        var lines: Int
    }

    /// The folder paths in the XML are relative to.
    let root: String
    let files: [File]
    var totalLines: Int { files.reduce(0) { $0 + $1.lines } }

    init(path: String) throws {
        if FolderFiles.isDirectory(path) {
            root = path
            let names = FolderFiles.list(path, ext: "xml")
            guard !names.isEmpty else { throw ImportError.invalid(file: path, line: 0, path: "", message: "holds no CVAT .xml file") }
            files = try names.map { name in
                let full = (path as NSString).appendingPathComponent(name)
                return File(path: full, relative: name, lines: try Self.countLines(full, relative: name))
            }
        } else {
            guard FileManager.default.fileExists(atPath: path) else { throw ImportError.unreadable(path: path) }
            root = (path as NSString).deletingLastPathComponent
            let name = (path as NSString).lastPathComponent
            files = [File(path: path, relative: name, lines: try Self.countLines(path, relative: name))]
        }
    }

    /// The progress line's basis: the streaming parser reports lines, not bytes.
    static func countLines(_ path: String, relative: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError.unreadable(path: relative) }
        defer { try? handle.close() }
        var lines = 1
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            lines += chunk.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        }
        return lines
    }
}

/// One XML document read into the import: its children handled as they close.
struct CVATDocumentReader {
    let document: CVATDocuments.File
    let root: String
    let importer: CVATImporter
    var meta = CVATMeta()
    var labelsDeclared = false
    var counts: [String: Int] = [:]
    /// Where a video's instances go, decided at the first track.
    var videoTarget: VideoTarget?
    /// The media of the element in hand, stored by the parser thread (`storeMedia(of:…)`).
    var prestored: (path: String, media: Result<StoredMedia, any Error>)?
    var linesDone = 0

    enum VideoTarget {
        case video(fileID: Int64)
        case frames([Int: Int64])
    }

    init(document: CVATDocuments.File, root: String, importer: CVATImporter) {
        self.document = document
        self.root = root
        self.importer = importer
    }

    /// The subset an XML file stands for: Datumaro writes `SUBSET.xml`; CVAT's own
    /// `annotations.xml` names none.
    var documentSubset: String? {
        let stem = ((document.relative as NSString).lastPathComponent as NSString).deletingPathExtension
        return stem == "annotations" ? nil : stem
    }

    /// Reads the document on a parser thread, which also stores each `<image>`'s media (two
    /// workers a batch), while this (the store's writer) thread handles the elements in order.
    func read(into run: inout FolderImportRun) throws {
        // Memory: at most 4 batches wait, one is filled and one handled; a batch ends at 256
        // children or 20,000 elements, so it holds one `<track>` of a long video at most beyond
        // that. Flat in the file's size, as before; bounded by a few children, not one.
        let pipe = RecordPipe<ParsedElement>(capacity: 4)
        let (document, locator, media) = (document, imageLocator, run.writer.media)
        let parser = Thread {
            var batch: [ParsedElement] = []
            var elements = 0
            func send() throws {
                Self.storeMedia(of: &batch, locator: locator, into: media)
                guard pipe.send(batch) else { throw CancellationError() }
                batch.removeAll(keepingCapacity: true)
                elements = 0
            }
            do {
                try XMLTree.forEachChild(ofRootAt: document.path, file: document.relative) { element in
                    batch.append(ParsedElement(element: element))
                    elements += element.elementCount
                    if batch.count == 256 || elements >= 20_000 { try send() }
                }
                if !batch.isEmpty { try send() }
                pipe.finish()
            } catch {
                pipe.finish(throwing: error)
            }
        }
        parser.name = "sluice-cvat-parser"
        parser.start()
        var reader = self
        do {
            while let batch = try pipe.receive() {
                for parsed in batch {
                    reader.prestored = parsed.stored
                    try reader.handle(parsed.element, run: &run)
                }
            }
        } catch {
            pipe.cancel()
            throw error
        }
        run.advance(bytes: document.lines - reader.linesDone)
    }

    /// An element of the root as the parser thread hands it over: an `<image>` with its media
    /// path found and its bytes stored.
    struct ParsedElement: Sendable {
        var element: XMLTreeElement
        var stored: (path: String, media: Result<StoredMedia, any Error>)? = nil
    }

    /// Stores the media of the batch's `<image>`s on two threads. A failure is only remembered:
    /// `addImage` then stores the file itself, meeting the fault in document order.
    static func storeMedia(of batch: inout [ParsedElement], locator: CVATImageLocator, into store: MediaStore) {
        let images: [(slot: Int, path: String)] = batch.indices.compactMap { slot in
            // A fault here is the writer's to name, with the element's index: only the path is wanted.
            let element = batch[slot].element
            guard element.name == "image", let path = try? locator.mediaPath(for: element, path: "annotations/image") else {
                return nil
            }
            return (slot, path)
        }
        let results = images.concurrentResults { try store.put(fileAt: $0.path) }
        for (image, result) in zip(images, results) { batch[image.slot].stored = (image.path, result) }
    }

    /// Where this document's `<image>`s find their media.
    var imageLocator: CVATImageLocator {
        CVATImageLocator(document: document, root: root, imagesDirectory: importer.imagesDirectory, documentSubset: documentSubset)
    }

    mutating func handle(_ element: XMLTreeElement, run: inout FolderImportRun) throws {
        counts[element.name, default: 0] += 1
        let path = "annotations/\(element.name)[\(counts[element.name]!)]"
        switch element.name {
        case "meta":
            meta = try CVATMeta(element, file: document.relative)
            for label in meta.labels {
                _ = try run.label(label.name, color: label.color, keypointNames: label.keypointNames, skeleton: label.skeleton)
            }
        case "image":
            try addImage(element, path: path, run: &run)
        case "track":
            try addTrack(element, path: path, run: &run)
        case "tag", "box", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton":
            throw ImportError.invalid(
                file: document.relative, line: element.line, path: path, message: "a shape must be inside an <image> or a <track>")
        default:
            break  // <version> and anything CVAT adds later
        }
        if element.line > linesDone {
            run.advance(bytes: element.line - linesDone)
            linesDone = element.line
        }
    }

    func label(_ name: String?, run: inout FolderImportRun) throws -> Int64? {
        try name.map { try run.label($0) }
    }

    mutating func addImage(_ element: XMLTreeElement, path: String, run: inout FolderImportRun) throws {
        func fault(_ field: String, _ message: String) -> ImportError {
            .invalid(file: document.relative, line: element.line, path: "\(path)/@\(field)", message: message)
        }
        guard let name = element.attributes["name"], !name.isEmpty else { throw fault("name", "an image needs a name") }
        func size(_ field: String) throws -> Int? {
            guard let text = element.attributes[field] else { return nil }
            guard let value = Int(text), value > 0 else { throw fault(field, "expected a positive number of pixels, got '\(text)'") }
            return value
        }
        let subset = imageLocator.subset(of: element)
        var metadata: [String: JSONValue] = [:]
        if let subset { metadata["subset"] = .string(subset) }
        // Stored ahead means the candidates resolved and one held the name: not searched again.
        let storedAhead: StoredMedia? = if case .success(let media)? = prestored?.media { media } else { nil }
        let mediaPath = storedAhead == nil ? try imageLocator.mediaPath(for: element, path: path) : nil
        let (width, height) = (try size("width"), try size("height"))
        let file: (id: Int64, width: Int?, height: Int?) =
            if let storedAhead {
                try run.addFile(name: name, stored: storedAhead, width: width, height: height, metadata: metadata)
            } else {
                try run.addFile(name: name, mediaPath: mediaPath, width: width, height: height, metadata: metadata)
            }
        var shapeCounts: [String: Int] = [:]
        for child in element.children {
            shapeCounts[child.name, default: 0] += 1
            let shape = try CVATShape(
                child, path: "\(path)/\(child.name)[\(shapeCounts[child.name]!)]", file: document.relative, label: nil, meta: meta,
                inTrack: false, imageSize: file.width.flatMap { w in file.height.map { (w, $0) } })
            try run.addInstance(
                NewInstance(
                    fileID: file.id, labelID: try label(shape.label, run: &run), kind: shape.kind, bbox: shape.bbox,
                    geometry: shape.geometry, area: shape.area, attributes: shape.attributes, metadata: shape.metadata))
        }
    }

    /// The frame numbers the task holds.
    func inFrameSet(_ frame: Int) -> Bool {
        frame >= meta.startFrame && (frame - meta.startFrame) % meta.frameStep == 0 && frame <= (meta.stopFrame ?? Int.max)
    }

    mutating func addTrack(_ element: XMLTreeElement, path: String, run: inout FolderImportRun) throws {
        let track = try CVATTrack(element, path: path, file: document.relative, meta: meta)
        let shapes = try track.visibleShapes(inFrameSet: inFrameSet, stopFrame: meta.stopFrame, path: path, file: document.relative)
        if videoTarget == nil { videoTarget = try makeVideoTarget(run: &run) }
        let labelID = try label(track.label, run: &run)
        for shape in shapes {
            let frame = shape.frame ?? 0
            let fileID: Int64
            switch videoTarget {
            case .video(let id)?: fileID = id
            case .frames(let files)?:
                guard let id = files[frame] else {
                    throw ImportError.invalid(
                        file: document.relative, line: element.line, path: path,
                        message: "the track is visible on frame \(frame), which has no image in images/ (give --video, or the frame's image)")
                }
                fileID = id
            case nil: preconditionFailure("the video target is made above")
            }
            var attributes = shape.attributes
            attributes["keyframe"] = .bool(shape.isKeyframe)
            try run.addInstance(
                NewInstance(
                    fileID: fileID, labelID: labelID, kind: shape.kind, bbox: shape.bbox, geometry: shape.geometry,
                    area: shape.area, frame: frame, track: track.id, attributes: attributes, metadata: shape.metadata))
        }
    }

    /// Where the video's instances go: the video file when it is found, else its frames' images,
    /// else a video file with no media.
    func makeVideoTarget(run: inout FolderImportRun) throws -> VideoTarget {
        var metadata: [String: JSONValue] = ["start_frame": .number(Double(meta.startFrame))]
        if let stop = meta.stopFrame { metadata["stop_frame"] = .number(Double(stop)) }
        if meta.frameStep != 1 { metadata["frame_step"] = .number(Double(meta.frameStep)) }
        if let subset = documentSubset { metadata["subset"] = .string(subset) }
        var video = importer.videoPath
        if video == nil, let source = meta.source {
            let field = "\(document.relative): meta/source"
            let beside = try ConfinedPath.resolve(source, in: root, field: field)
            if FileManager.default.fileExists(atPath: beside) { video = beside }
        }
        if let video {
            let info = try VideoProbe.probe(path: video)
            let name = meta.source ?? (video as NSString).lastPathComponent
            let file = try run.addFile(
                name: name, mediaPath: video, type: .video, width: info.width, height: info.height, frameCount: info.frameCount,
                frameRate: info.frameRate, metadata: metadata)
            return .video(fileID: file.id)
        }
        let frames = frameImages()
        if !frames.isEmpty {
            var files: [Int: Int64] = [:]
            for (frame, name) in frames.sorted(by: { $0.key < $1.key }) {
                var frameMetadata = metadata
                frameMetadata["frame"] = .number(Double(frame))
                if let source = meta.source { frameMetadata["video"] = .string(source) }
                let path = ((root as NSString).appendingPathComponent("images") as NSString).appendingPathComponent(name)
                files[frame] = try run.addFile(name: name, mediaPath: path, type: .frame, metadata: frameMetadata).id
            }
            return .frames(files)
        }
        let file = try run.addFile(
            name: meta.source ?? "video", mediaPath: nil, type: .video, width: meta.originalSize?.width,
            height: meta.originalSize?.height, metadata: metadata)
        return .video(fileID: file.id)
    }

    /// Frame number → image name, for `images/frame_NNNNNN.EXT` (CVAT's and Datumaro's naming).
    func frameImages() -> [Int: String] {
        let folder = (root as NSString).appendingPathComponent("images")
        var frames: [Int: String] = [:]
        for name in FolderWalk.files(in: folder, maxDepth: 0, includingLinks: true) {
            let stem = FolderWalk.stem(name)
            guard stem.hasPrefix("frame_"), let frame = Int(stem.dropFirst(6)), frame >= 0, frames[frame] == nil else { continue }
            frames[frame] = name
        }
        return frames
    }
}

/// Where an `<image>`'s media is: `--images`, then `images/SUBSET/`, `images/`, and the folder of
/// the XML; the first that holds the name. Shared by the parser thread, which stores the media
/// ahead, and the writer, which checks the same in document order.
struct CVATImageLocator: Sendable {
    let document: CVATDocuments.File
    let root: String
    let imagesDirectory: String?
    let documentSubset: String?

    func subset(of element: XMLTreeElement) -> String? {
        element.attributes["subset"].flatMap { $0.isEmpty ? nil : $0 } ?? documentSubset
    }

    /// The media path of `element` (an `<image>` with a name, at `path` in the document, for
    /// faults), nil when no candidate holds it.
    func mediaPath(for element: XMLTreeElement, path: String) throws -> String? {
        guard let name = element.attributes["name"], !name.isEmpty else { return nil }
        let subset = subset(of: element)
        let field = "\(document.relative):\(element.line): \(path)/@name"
        var candidates: [String] = []
        if let images = imagesDirectory { candidates.append(try ConfinedPath.resolve(name, in: images, field: field)) }
        let imagesFolder = (root as NSString).appendingPathComponent("images")
        // A project export's subset folder, as CVAT names it or as `sluice export` made it safe.
        for folder in Set([subset, subset.map(CVATWriter.safeFolder)].compactMap { $0 }).sorted()
        where !folder.contains("/") && folder != ".." {
            candidates.append(try ConfinedPath.resolve(name, in: (imagesFolder as NSString).appendingPathComponent(folder), field: field))
        }
        candidates.append(try ConfinedPath.resolve(name, in: imagesFolder, field: field))
        candidates.append(try ConfinedPath.resolve(name, in: root, field: field))
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
