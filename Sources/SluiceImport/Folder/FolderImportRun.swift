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

    /// The id of the label `name`, created the first time it is seen, with `color` and (for a
    /// skeleton) its points and edges when given.
    mutating func label(_ name: String, color: String? = nil, keypointNames: [String]? = nil, skeleton: [[Int]]? = nil) throws
        -> Int64
    {
        if let id = labels[name] { return id }
        let id = try writer.upsertLabel(NewLabel(name: name, color: color, keypointNames: keypointNames, skeleton: skeleton))
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
        return try addFile(
            name: name, stored: try mediaPath.map { try writer.storeMedia(at: $0) }, type: type, width: width, height: height,
            frameCount: frameCount, frameRate: frameRate, metadata: metadata)
    }

    /// `addFile(name:mediaPath:…)` for media stored already (by a `Lookahead`), or none.
    mutating func addFile(
        name: String, stored: StoredMedia?, type: FileType = .image, width: Int? = nil, height: Int? = nil,
        frameCount: Int? = nil, frameRate: Double? = nil, metadata: [String: JSONValue] = [:]
    ) throws -> (id: Int64, width: Int?, height: Int?) {
        if isCancelled?() == true { throw ImportError.cancelled }
        var fileMedia = Media(
            mimeType: MediaType.mimeType(forPath: name), width: width, height: height, frameCount: frameCount, frameRate: frameRate)
        if let stored {
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

    /// The files and links to files directly in `directory` whose extension is `ext` (any
    /// case), sorted by name, hidden ones left out; empty when the directory does not exist.
    /// The annotation files listed here (VOC's `Annotations/`, CVAT's and Doccano's files) are
    /// read through a link as before, unconfined: only a local import can hold a link, since a
    /// server import's tree is written by the server from uploaded bytes.
    static func list(_ directory: String, ext: String) -> [String] {
        FolderWalk.files(in: directory, maxDepth: 0, includingLinks: true) { FolderWalk.pathExtension($0).lowercased() == ext }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The size of the file at `path`, 0 when there is none. stat(2) itself: the layouts size
    /// every annotation file before an import, and FileManager's attributes cost ten times more.
    static func size(_ path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : 0
    }

    /// The bytes of `path` (`relative` names it in errors), refused beyond the size limit.
    /// One open, one fstat and reads into a buffer of the file's size: an import reads a file
    /// per image, and FileManager's attributes and contents cost several times that.
    static func read(_ path: String, relative: String, limit: Int = maxAnnotationBytes) throws -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ImportError.unreadable(path: relative) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ImportError.unreadable(path: relative) }
        let size = Int(status.st_size)
        guard size <= limit else {
            throw ImportError.invalid(file: relative, line: 0, path: "", message: "is \(size) bytes; the limit for this file is \(limit)")
        }
        var data = Data(count: size)
        // The size may change while it is read: what is read is what the file held, up to the limit.
        let count = data.withUnsafeMutableBytes { buffer -> Int in
            var total = 0
            while total < size {
                let n = Foundation.read(descriptor, buffer.baseAddress! + total, size - total)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return n < 0 ? -1 : total }
                total += n
            }
            return total
        }
        guard count >= 0 else { throw ImportError.unreadable(path: relative) }
        if count < size { data.count = count }
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
