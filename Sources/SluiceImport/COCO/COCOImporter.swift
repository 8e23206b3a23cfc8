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
    /// Where the images' bytes come from; nil imports annotations without media.
    public var media: MediaSource?
    /// Called about twice a second with the progress so far.
    public var progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked between batches of records: true stops the import, and nothing of it is kept
    /// (an import through a server whose client went away).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(imagesDirectory: String? = nil, progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.init(media: imagesDirectory.map(MediaSource.directory), progress: progress)
    }

    public init(
        media: MediaSource?, progress: (@Sendable (ImportProgress) -> Void)? = nil,
        isCancelled: (@Sendable () -> Bool)? = nil
    ) {
        self.media = media
        self.progress = progress
        self.isCancelled = isCancelled
    }

    /// Imports `path` into `datasetName` of `projectID` in one transaction; on any error the
    /// store is left as it was and the error names the JSON path of the fault.
    public func importFile(at path: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let importer = self
        return try await store.timedImport(projectID: projectID, datasetName: datasetName) { writer in
            try importer.run(path: path, writer: writer)
        }
    }

    /// The images a COCO file names, in file order, with the JSON path of each `file_name`:
    /// what a client uploads before an import through a server. Streams the file.
    public static func imageNames(at path: String) throws -> [(field: String, fileName: String)] {
        let source = try FileByteSource(path: path)
        var reader = JSONReader(source: source, chunkSize: 1 << 20)
        var names: [(field: String, fileName: String)] = []
        try COCOParser.parse(&reader) { record, _ in
            if case .image(let image) = record { names.append(("images[\(image.index)].file_name", image.fileName)) }
        }
        return names
    }

    /// Runs the import inside an open import transaction: a parser thread reads the file
    /// into records while this (the store's writer) thread maps ids and inserts them.
    public func run(path: String, writer: any ImportWriter) throws -> ImportSummary {
        let source = try FileByteSource(path: path)
        let pipe = RecordPipe<ParsedRecord>(capacity: 8)
        let directory: String? = if case .directory(let directory) = media { directory } else { nil }
        let store = writer.media
        let parser = Thread {
            var reader = JSONReader(source: source, chunkSize: 1 << 20)
            var batch: [ParsedRecord] = []
            batch.reserveCapacity(1024)
            do {
                try COCOParser.parse(&reader) { record, bytesRead in
                    batch.append(ParsedRecord(record: record, bytesRead: bytesRead))
                    if batch.count == 1024 {
                        if let directory { Self.storeMedia(of: &batch, from: directory, into: store) }
                        guard pipe.send(batch) else { throw CancellationError() }
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if let directory { Self.storeMedia(of: &batch, from: directory, into: store) }
                if !batch.isEmpty, !pipe.send(batch) { throw CancellationError() }
                pipe.finish()
            } catch {
                pipe.finish(throwing: error)
            }
        }
        parser.name = "sluice-coco-parser"
        parser.start()
        var run = COCORun(writer: writer, totalBytes: source.size, media: media, progress: progress)
        do {
            while let batch = try pipe.receive() {
                if isCancelled?() == true { throw ImportError.cancelled }
                for parsed in batch {
                    try run.apply(parsed.record, stored: parsed.stored)
                    run.report(bytesRead: parsed.bytesRead)
                }
            }
            return try run.finish(bytesRead: source.size)
        } catch {
            pipe.cancel()
            throw error
        }
    }
}

/// A record as the parser thread hands it over: with its image stored, for an image record
/// of an import from a directory.
struct ParsedRecord: Sendable {
    var record: COCORecord
    var bytesRead: Int
    var stored: Result<StoredMedia, any Error>? = nil
}

extension COCOImporter {
    /// Stores the media of the batch's image records on two threads while the writer inserts
    /// the batch before (`concurrentResults`). A failure is kept with its record, so
    /// the writer meets it in file order, as it would storing the image itself.
    static func storeMedia(of batch: inout [ParsedRecord], from directory: String, into store: MediaStore) {
        let images: [(slot: Int, image: COCOImage)] = batch.indices.compactMap { slot in
            if case .image(let image) = batch[slot].record { (slot, image) } else { nil }
        }
        let results = images.concurrentResults { try storeImage($0.image, from: directory, into: store) }
        for (entry, result) in zip(images, results) { batch[entry.slot].stored = result }
    }

    static func storeImage(_ image: COCOImage, from directory: String, into store: MediaStore) throws -> StoredMedia {
        let field = "images[\(image.index)].file_name"
        let mediaPath = try ConfinedPath.resolve(image.fileName, in: directory, field: field)
        guard FileManager.default.fileExists(atPath: mediaPath) else {
            throw ImportError.missingMedia(path: field, file: mediaPath)
        }
        return try store.put(fileAt: mediaPath)
    }
}

/// Applies parsed records to the store: maps COCO ids to store ids, in file order.
struct COCORun {
    let writer: any ImportWriter
    let totalBytes: Int
    let media: MediaSource?
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
        writer: any ImportWriter, totalBytes: Int, media: MediaSource?,
        progress: (@Sendable (ImportProgress) -> Void)?
    ) {
        self.writer = writer
        self.totalBytes = totalBytes
        self.media = media
        self.progress = progress
    }

    /// `stored`: the image record's media, stored ahead (`COCOImporter.storeMedia(of:…)`).
    mutating func apply(_ record: COCORecord, stored: Result<StoredMedia, any Error>? = nil) throws {
        switch record {
        case .category(let category): try apply(category)
        case .image(let image): try apply(image, stored: stored)
        case .annotation(let annotation): try apply(annotation)
        }
    }

    mutating func finish(bytesRead: Int) throws -> ImportSummary {
        if let (id, path) = pendingImages.min(by: { $0.key < $1.key }) {
            throw ImportError.unknownReference(path: path, kind: "image", id: id)
        }
        if let (id, path) = pendingCategories.min(by: { $0.key < $1.key }) {
            throw ImportError.unknownReference(path: path, kind: "category", id: id)
        }
        report(bytesRead: bytesRead, force: true, finishing: true)
        return ImportSummary(
            datasetID: writer.datasetID, files: fileCount, instances: instanceCount, labels: Set(labels.values).count,
            media: mediaCount, seconds: Date().timeIntervalSince(started))
    }

    mutating func apply(_ category: COCOCategory) throws {
        if let existing = labels[category.id] {
            guard pendingCategories.removeValue(forKey: category.id) != nil else {
                throw ImportError.duplicateID(path: "categories[\(category.index)].id", kind: "category", id: category.id)
            }
            // Annotations came first and used a placeholder label: give their instances the real one.
            let real = try writer.upsertLabel(category.label)
            try writer.mergeLabel(existing, into: real)
            labels[category.id] = real
        } else {
            labels[category.id] = try writer.upsertLabel(category.label)
        }
    }

    mutating func labelID(forCategory id: Int64, path: @autoclosure () -> String) throws -> Int64 {
        if let label = labels[id] { return label }
        let placeholder = try writer.upsertLabel(NewLabel(name: "coco-category-\(id)-pending-\(UUID().uuidString)"))
        labels[id] = placeholder
        pendingCategories[id] = path()
        return placeholder
    }

    mutating func apply(_ image: COCOImage, stored prestored: Result<StoredMedia, any Error>? = nil) throws {
        let path = "images[\(image.index)]"
        var media = Media(mimeType: MediaType.mimeType(forPath: image.fileName), width: image.width, height: image.height)
        if let source = self.media {
            let stored: StoredMedia
            switch source {
            case .directory(let directory):
                stored = try prestored?.get() ?? COCOImporter.storeImage(image, from: directory, into: writer.media)
            case .addressed(let shas):
                guard let sha = shas[image.fileName], let held = try writer.storedMedia(sha256: sha) else {
                    throw ImportError.missingMedia(path: "\(path).file_name", file: image.fileName)
                }
                stored = held
            }
            media = Media(
                sha256: stored.sha256, mimeType: stored.mimeType, byteSize: stored.byteSize,
                width: image.width ?? stored.width, height: image.height ?? stored.height)
            mediaCount += 1
        }
        let file = NewFile(type: .image, name: image.fileName, media: media, metadata: image.metadata)
        let fileID: Int64
        if let existing = files[image.id] {
            guard pendingImages.removeValue(forKey: image.id) != nil else {
                throw ImportError.duplicateID(path: "\(path).id", kind: "image", id: image.id)
            }
            fileID = existing
            try writer.updateFile(id: fileID, with: file)
        } else {
            fileID = try writer.insertFile(file)
            files[image.id] = fileID
        }
        try writer.append(fileID: fileID)
        fileCount += 1
    }

    mutating func fileID(forImage id: Int64, path: @autoclosure () -> String) throws -> Int64 {
        if let file = files[id] { return file }
        // Annotations before images: hold a file row that the image fills in later.
        let placeholder = try writer.insertFile(NewFile(type: .image, name: "", media: Media()))
        files[id] = placeholder
        pendingImages[id] = path()
        return placeholder
    }

    mutating func apply(_ a: COCOAnnotation) throws {
        let fileID = try fileID(forImage: a.imageID, path: "annotations[\(a.index)].image_id")
        // Captions carry category 0 with no categories; no category means no label.
        let labelID: Int64? =
            if let categoryID = a.categoryID, !(categoryID == 0 && a.attributes["caption"] != nil && labels[0] == nil) {
                try labelID(forCategory: categoryID, path: "annotations[\(a.index)].category_id")
            } else { nil }
        try writer.insertInstance(
            NewInstance(
                fileID: fileID, labelID: labelID, kind: a.kind, bbox: a.bbox, geometry: a.geometry, area: a.area,
                isCrowd: a.isCrowd, score: a.score, attributes: a.attributes, metadata: a.metadata))
        instanceCount += 1
    }

    // MARK: Progress

    mutating func report(bytesRead: Int, force: Bool = false, finishing: Bool = false) {
        guard let progress else { return }
        // Checking the clock every element would cost more than the insert itself.
        guard force || (fileCount + instanceCount) & 4095 == 0 else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastReport) >= 0.5 else { return }
        lastReport = now
        progress(
            ImportProgress(
                bytesRead: bytesRead, totalBytes: totalBytes, files: fileCount, instances: instanceCount,
                elapsed: now.timeIntervalSince(started), finishing: finishing))
    }
}

/// Where an import finds the media its annotations name.
public enum MediaSource: Sendable, Hashable {
    /// Files below a directory (`--images`), copied into the store; names are confined to it.
    case directory(String)
    /// Media the store holds already, by the name the annotations give them: an import
    /// through a server, whose client uploaded the bytes first.
    case addressed([String: String])
}
