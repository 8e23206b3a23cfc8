import Foundation
import SluiceModel
import SluiceStore

/// The folder formats a dataset exports to: a directory of annotation files beside a copy of
/// the images, as the format's own tools lay it out.
public enum FolderExportFormat: String, Sendable, CaseIterable {
    /// Pascal VOC: `Annotations/ID.xml`, `JPEGImages/`, `ImageSets/Main/SUBSET.txt`, `labelmap.txt`.
    case voc
    /// YOLO in darknet's layout: `obj.names`, `obj.data`, `train.txt` (and `valid.txt`),
    /// `obj_train_data/` with each image and its label file.
    case yolo
    /// YOLO in Ultralytics' layout: `data.yaml`, `images/SUBSET/`, `labels/SUBSET/`.
    case yoloUltralytics = "yolo-ultralytics"
    /// The labelme tool's JSON: each image and a `.json` beside it (`imagePath`, `shapes`).
    case labelme
    /// MIT LabelMe XML as Datumaro reads it: `Annotations/`, `Images/`, `Masks/` per subset.
    case labelmeXML = "labelme-xml"
    /// CVAT for images or CVAT for video 1.1: `annotations.xml`, media in `images/` (a video
    /// beside the XML).
    case cvat
    /// Doccano's JSONL: `all.jsonl`, a line per text file with its spans and categories.
    case doccano
}

/// Writes a dataset (or a slice) into a directory in a `FolderExportFormat`, a page of items at
/// a time. Images are copied from the media store; instances the format cannot hold (a polygon
/// in VOC, a keypoint set in either) are counted in the summary, not written.
public struct FolderExporter: Sendable {
    public var source: ExportSource
    public var format: FolderExportFormat
    public var progress: (@Sendable (ImportProgress) -> Void)?

    public init(source: ExportSource, format: FolderExportFormat, progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.source = source
        self.format = format
        self.progress = progress
    }

    public struct Summary: Sendable, Equatable {
        public var files: Int
        public var instances: Int
        /// Instances of kinds the format has no place for.
        public var skipped: Int
        public var seconds: Double
    }

    /// Writes into `directory`, which must exist and be empty.
    public func write(into directory: String) async throws -> Summary {
        let started = Date()
        let labels = try await source.store.labels(projectID: source.dataset.projectID, at: source.version)
        var writer = try FolderExportWriter(format: format, directory: directory, labels: labels, media: source.store.media)
        var tracker = ExportTracker(total: source.count, progress: progress)
        try await source.forEachPage { items in
            for stored in items { try writer.add(try stored.decoded()) }
            tracker.advance(items, files: true, instances: true)
        }
        return try writer.finish(seconds: Date().timeIntervalSince(started))
    }
}

/// A folder export fed an item at a time, in position order: what `FolderExporter` does with
/// a store, for a caller that reads the items elsewhere (`sluice export --host` streams them
/// from a server). Each item's media must be in `media` when it is added; the writer copies
/// it then and does not read it again, so a caller may drop it after `add`.
public struct FolderExportWriter {
    private var writer: any FolderFormatWriter

    /// `labels` are the project's, as the export names them (at the version exported).
    public init(format: FolderExportFormat, directory: String, labels: [Label], media: MediaStore) throws {
        writer =
            switch format {
            case .voc: try VOCWriter(directory: directory, labels: labels, media: media)
            case .yolo: try YOLOWriter(directory: directory, labels: labels, media: media)
            case .yoloUltralytics: try YOLOWriter(directory: directory, labels: labels, media: media, layout: .ultralytics)
            case .labelme: LabelMeWriter(directory: directory, media: media)
            case .labelmeXML: LabelMeXMLWriter(directory: directory, media: media)
            case .cvat: try CVATWriter(directory: directory, labels: labels, media: media)
            case .doccano: try DoccanoWriter(directory: directory, media: media)
            }
    }

    /// Writes `item`; a removed position is not exported.
    public mutating func add(_ item: Item) throws {
        guard !item.isRemoved else { return }
        try writer.add(item)
    }

    /// Writes what the format keeps until the end (label maps, subset lists, a CVAT document).
    public mutating func finish(seconds: Double) throws -> FolderExporter.Summary {
        try writer.finish()
        return FolderExporter.Summary(files: writer.files, instances: writer.instances, skipped: writer.skipped, seconds: seconds)
    }
}

protocol FolderFormatWriter {
    var files: Int { get }
    var instances: Int { get }
    var skipped: Int { get }
    mutating func add(_ item: Item) throws
    mutating func finish() throws
}

/// Paths inside an export: file names come from whoever imported them, so each is made a
/// relative path that stays inside the export (no `..`, no absolute root), and kept unique.
struct ExportNames {
    private var taken: Set<String> = []

    /// `name` as a safe relative path without its extension, unique in this export.
    mutating func stem(for name: String) -> String {
        let parts = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).filter { $0 != "." && !$0.isEmpty }.map {
            $0 == ".." ? "__" : String($0).replacingOccurrences(of: "\0", with: "_")
        }
        var stem = (parts.joined(separator: "/") as NSString).deletingPathExtension
        if stem.isEmpty { stem = "file" }
        var candidate = stem
        var n = 2
        while !taken.insert(candidate.lowercased()).inserted {
            candidate = "\(stem)-\(n)"
            n += 1
        }
        return candidate
    }

    /// One path component from a stored value (a subset name): no separators, not `.` or `..`.
    static func safeComponent(_ name: String) -> String {
        let cleaned = String(name.map { $0 == "/" || $0 == "\\" || $0 == "\0" ? "_" : $0 })
        return cleaned == "." || cleaned == ".." || cleaned.isEmpty ? "_" : cleaned
    }

    static func extensionOf(_ name: String, mimeType: String?) -> String {
        let ext = (name as NSString).pathExtension.lowercased()
        if !ext.isEmpty, ext.allSatisfy({ $0.isLetter || $0.isNumber }) { return ext }
        switch mimeType {
        case "image/png": return "png"
        case "image/gif": return "gif"
        default: return "jpg"
        }
    }
}

extension FolderFormatWriter {
    /// Creates the parent directories of `path` and writes `text` there.
    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw ExportError.unwritable(path)
        }
    }

    /// Copies the stored bytes of `media` to `path`; false when the file has none.
    static func copyMedia(_ media: Media, from store: MediaStore, to path: String) throws -> Bool {
        guard let sha = media.sha256 else { return false }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            try FileManager.default.copyItem(atPath: store.path(for: sha), toPath: path)
        } catch {
            throw ExportError.unwritable(path)
        }
        return true
    }
}

public enum ExportError: Error, CustomStringConvertible {
    case unwritable(String)
    /// The format needs a value the file lacks (YOLO's fractions need the image's size).
    case missing(file: String, what: String)

    public var description: String {
        switch self {
        case .unwritable(let path): "cannot write \(path)"
        case .missing(let file, let what): "\(file): \(what)"
        }
    }
}
