import Foundation
import SluiceModel
import SluiceStore

/// What the folder importers (Pascal VOC, YOLO, CVAT) share inside their one transaction: labels
/// matched by name, media confined to the folder and content-addressed, files appended in
/// the order read, counts and the progress line.
struct FolderImportRun {
    let writer: any ImportWriter
    let progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked before each file: true stops the import (its client went away), nothing kept.
    let isCancelled: (@Sendable () -> Bool)?
    /// Bytes of annotation files to read in all: the basis of the progress line's ETA.
    let totalBytes: Int
    private(set) var labels: [String: Int64] = [:]
    private(set) var files = 0
    private(set) var instances = 0
    private(set) var media = 0
    private var bytesRead = 0
    private let started = Date()
    private var lastReport = Date.distantPast

    init(
        writer: any ImportWriter, totalBytes: Int, progress: (@Sendable (ImportProgress) -> Void)?,
        isCancelled: (@Sendable () -> Bool)? = nil
    ) {
        self.writer = writer
        self.totalBytes = totalBytes
        self.progress = progress
        self.isCancelled = isCancelled
    }

    /// The id of the label `name`, created (with `color` when given) the first time it is seen.
    mutating func label(_ name: String, color: String? = nil) throws -> Int64 {
        if let id = labels[name] { return id }
        let id = try writer.upsertLabel(NewLabel(name: name, color: color))
        labels[name] = id
        return id
    }

    /// Stores the media at `mediaPath` (when given) and appends a file named `name`; returns
    /// its id and the pixel size (the image header's when the annotations give none).
    mutating func addFile(
        name: String, mediaPath: String?, type: FileType = .image, width: Int? = nil, height: Int? = nil,
        frameCount: Int? = nil, frameRate: Double? = nil, metadata: [String: JSONValue] = [:]
    ) throws -> (id: Int64, width: Int?, height: Int?) {
        if isCancelled?() == true { throw ImportError.cancelled }
        var fileMedia = Media(
            mimeType: MediaType.mimeType(forPath: name), width: width, height: height, frameCount: frameCount, frameRate: frameRate)
        if let mediaPath {
            let stored = try writer.storeMedia(at: mediaPath)
            fileMedia = Media(
                sha256: stored.sha256, mimeType: stored.mimeType, byteSize: stored.byteSize,
                width: width ?? stored.width, height: height ?? stored.height, frameCount: frameCount, frameRate: frameRate)
            media += 1
        }
        let id = try writer.insertFile(NewFile(type: type, name: name, media: fileMedia, metadata: metadata))
        try writer.append(fileID: id)
        files += 1
        return (id, fileMedia.width, fileMedia.height)
    }

    mutating func addInstance(_ instance: NewInstance) throws {
        try writer.insertInstance(instance)
        instances += 1
    }

    /// Counts `bytes` more of annotations read, and reports about twice a second.
    mutating func advance(bytes: Int, finishing: Bool = false) {
        bytesRead += bytes
        guard let progress else { return }
        let now = Date()
        guard finishing || now.timeIntervalSince(lastReport) >= 0.5 else { return }
        lastReport = now
        progress(
            ImportProgress(
                bytesRead: finishing ? totalBytes : bytesRead, totalBytes: totalBytes, files: files, instances: instances,
                elapsed: now.timeIntervalSince(started), finishing: finishing))
    }

    mutating func finish() -> ImportSummary {
        advance(bytes: 0, finishing: true)
        return ImportSummary(
            datasetID: writer.datasetID, files: files, instances: instances, labels: labels.count, media: media,
            seconds: Date().timeIntervalSince(started))
    }
}

/// The files of a folder format, read with limits: annotation files come from strangers.
enum FolderFiles {
    /// Largest annotation file read (a VOC XML or a YOLO label file holds one image's objects).
    static let maxAnnotationBytes = 16 << 20
    /// Largest image list read (ImageSets, darknet's train.txt): a million images' names.
    static let maxListBytes = 256 << 20

    /// The regular files directly in `directory` whose extension is `ext`, sorted by name;
    /// empty when the directory does not exist.
    static func list(_ directory: String, ext: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { ($0 as NSString).pathExtension.lowercased() == ext }.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// The bytes of `path` (`relative` names it in errors), refused beyond the size limit.
    static func read(_ path: String, relative: String, limit: Int = maxAnnotationBytes) throws -> Data {
        let size = Self.size(path)
        guard size <= limit else {
            throw ImportError.invalid(file: relative, line: 0, path: "", message: "is \(size) bytes; the limit for this file is \(limit)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ImportError.unreadable(path: relative) }
        return data
    }

    /// The lines of a text file (UTF-8, `\n` or `\r\n`), numbered from 1.
    static func lines(_ path: String, relative: String, limit: Int = maxAnnotationBytes) throws
        -> [(number: Int, text: Substring)]
    {
        let data = try read(path, relative: relative, limit: limit)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ImportError.invalid(file: relative, line: 0, path: "", message: "is not UTF-8 text")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, line in
            (index + 1, line.hasSuffix("\r") ? line.dropLast() : line)
        }
    }
}
