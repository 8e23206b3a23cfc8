import ArgumentParser
import Foundation
import Sluice
import SluiceImport
import SluiceModel
import SluiceQuery
import SluiceStore

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a dataset (or a slice of it) as a COCO or sluice-json file, or a VOC, YOLO, LabelMe, CVAT or Doccano folder.",
        discussion: """
            Reads the store a page at a time and writes as it reads: memory stays flat however large \
            the dataset. A COCO export of an imported COCO file gives back its ids and fields. The \
            file is written next to OUT and renamed when complete, so OUT is never half a document.

              sluice export --project coco-dataset --dataset Default --format coco --data ~/sluice-data out.json
              sluice export --project coco-dataset --dataset Default --format sluice-json \\
                  --query 'labels.person > 2' --host http://127.0.0.1:8085 people.json

            voc, yolo (darknet's layout), yolo-ultralytics (data.yaml, images/, labels/), labelme (the labelme tool's JSON), labelme-xml (MIT LabelMe XML, as Datumaro
            reads it) and cvat write a folder OUT (which must not exist yet) with the images (for
            cvat, the video) copied beside the annotations; doccano writes OUT/all.jsonl, a line
            per text file. A folder is built as OUT.partial and renamed when complete. Through a
            server (--host), the items stream with their media and are written as they arrive.

              sluice export --project voc --dataset trainval --format voc --data ~/sluice-data voc-out/
              sluice export --project scenes --dataset all --format labelme --data ~/sluice-data labelme-out/
              sluice export --project voc --dataset trainval --format yolo --query 'labels.person > 0' \\
                  --host http://127.0.0.1:8085 people-yolo/
            """)

    @Argument(help: "The file (or, for voc, yolo, labelme, labelme-xml, cvat and doccano, the folder) to write.")
    var out: String

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @Option(help: ArgumentHelp(Self.formatList + "."))
    var format: String

    /// Every format, file and folder, as `--format` takes them: one list for help and refusal.
    static var formatList: String {
        let names = ExportFormat.allCases.map(\.rawValue) + FolderExportFormat.allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    @Option(help: "Export only the items this slice query selects, e.g. 'labels.cat > 0'.")
    var query: String?

    @Option(help: "The dataset version to export (default: the current one).")
    var version: String?

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard ExportFormat(rawValue: format) != nil || FolderExportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be \(Self.formatList), not '\(format)'")
        }
    }

    func run() async throws {
        if let folderFormat = FolderExportFormat(rawValue: format) { return try await exportFolder(folderFormat) }
        let path = absolutePath(out)
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
            let handle = FileHandle(forWritingAtPath: partial)
        else { throw ValidationError("cannot write \(partial)") }
        let line = ProgressLine()
        do {
            let summary: String
            // Not mapped: an export reads every page once, and mapped pages of a multi-gigabyte
            // file would all count as this process's memory.
            if let sluiceStore = try await store.open(memoryMapped: false) {
                summary = try await exportEmbedded(sluiceStore, to: handle, line: line)
            } else {
                summary = try await exportThroughServer(to: handle, line: line)
            }
            // On disk before the rename, and one rename(2) that replaces OUT: a crash at any
            // moment leaves the old OUT or the whole new one, never a part.
            try handle.synchronize()
            try handle.close()
            guard rename(partial, path) == 0 else {
                throw ValidationError("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
            }
            line.finish(summary)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    private func exportEmbedded(_ sluiceStore: any Store, to handle: FileHandle, line: ProgressLine) async throws -> String {
        let source = try await embeddedSource(sluiceStore)
        let ds = source.dataset, pinned = source.version
        let exporter = DatasetExporter(
            source: source,
            format: ExportFormat(rawValue: format)!
        ) { progress in
            line.update("exporting · \(progress.line)")
        }
        let summary = try await exporter.write { bytes in try handle.write(contentsOf: bytes) }
        let rate = summary.seconds > 0 ? Double(summary.files + summary.instances) / summary.seconds : 0
        return "exported \(summary.files) files, \(summary.instances) instances (\(summary.bytes) bytes) from "
            + "\(project)/\(dataset) version \(pinned?.version ?? ds.version) in \(String(format: "%.2f", summary.seconds)) s "
            + "(\(Int(rate)) items/s) to \(out)"
    }

    private func exportThroughServer(to handle: FileHandle, line: ProgressLine) async throws -> String {
        let handleProject = try await Project(id: project, host: server.host, apiKey: server.apiKey)
        let ds = try await handleProject.datasets.get(name: dataset)
        let started = ContinuousClock.now
        var lastReport = started
        var bytes = 0
        // The server knows the items; the client sees bytes. The total is not known ahead.
        let count = try await ds.export(format: format, query: query, version: version) { chunk in
            try handle.write(contentsOf: chunk)
            bytes += chunk.count
            let now = ContinuousClock.now
            if now - lastReport >= .milliseconds(500) {
                lastReport = now
                let seconds = (now - started).seconds
                line.update(
                    "exporting · \(Self.megabytes(bytes)) · \(Self.megabytes(Int(Double(bytes) / max(seconds, 0.001))))/s")
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        return "exported \(count) items (\(bytes) bytes) from \(project)/\(dataset) in "
            + "\(String(format: "%.2f", seconds)) s to \(out)"
    }

    /// The dataset (or the slice `--query` selects) at `--version`, read from the store directly.
    private func embeddedSource(_ sluiceStore: any Store) async throws -> ExportSource {
        let ds = try await sluiceStore.dataset(project: project, named: dataset)
        let pinned = try await version.asyncMap { try await sluiceStore.versionPoint(of: ds, named: $0) }
        var positions: [Int]?
        if let query {
            let schema = QuerySchema(
                labels: try await sluiceStore.labels(projectID: project),
                attributeGroups: try await sluiceStore.attributeGroups(projectID: project))
            let checked = try QueryParser.parse(query).checked(against: schema)
            positions = try await sluiceStore.matchingPositions(in: ds, query: checked, at: pinned)
        }
        return ExportSource(store: sluiceStore, dataset: ds, positions: positions, version: pinned)
    }

    /// voc, yolo, labelme, labelme-xml, cvat and doccano: a folder, built beside OUT and renamed
    /// into place when whole.
    private func exportFolder(_ folderFormat: FolderExportFormat) async throws {
        let sluiceStore = try await store.open(memoryMapped: false)
        let path = absolutePath(out)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(out) exists: a \(format) export writes a new folder")
        }
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        let line = ProgressLine()
        do {
            let (summary, version) =
                if let sluiceStore {
                    try await exportFolderEmbedded(sluiceStore, folderFormat, into: partial, line: line)
                } else {
                    try await exportFolderThroughServer(folderFormat, into: partial, line: line)
                }
            guard rename(partial, path) == 0 else {
                throw ValidationError("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
            }
            let skipped = summary.skipped > 0 ? " (\(summary.skipped) instances of kinds \(format) cannot hold left out)" : ""
            line.finish(
                "exported \(summary.files) files, \(summary.instances) instances\(skipped) from \(project)/\(dataset) "
                    + "version \(version) in \(String(format: "%.2f", summary.seconds)) s to \(out)")
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    private func exportFolderEmbedded(
        _ sluiceStore: any Store, _ folderFormat: FolderExportFormat, into partial: String, line: ProgressLine
    ) async throws -> (FolderExporter.Summary, Int64) {
        let source = try await embeddedSource(sluiceStore)
        let exporter = FolderExporter(source: source, format: folderFormat) { progress in
            line.update("exporting · \(progress.line)")
        }
        return (try await exporter.write(into: partial), source.versionNumber)
    }

    /// The items stream from the server in position order with their media (`itemsWithMedia`;
    /// a video's bytes come from `/files/{id}/media`, resumable); each item's media is held in a
    /// scratch folder beside OUT only until its writer has copied it, so the disk holds the
    /// export and one item more, and memory the stream's window.
    private func exportFolderThroughServer(
        _ folderFormat: FolderExportFormat, into partial: String, line: ProgressLine
    ) async throws -> (FolderExporter.Summary, Int64) {
        let started = ContinuousClock.now
        let handleProject = try await Project(id: project, host: server.host, apiKey: server.apiKey)
        var ds = try await handleProject.datasets.get(name: dataset)
        if let version { ds = try await ds.at(version) }
        let epoch = if let query { try await ds.slice(query).epoch() } else { try await ds.epoch() }
        let scratch = partial + ".media"
        try? FileManager.default.removeItem(atPath: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let media = try MediaStore(root: URL(fileURLWithPath: scratch))
        var writer = try FolderExportWriter(
            format: folderFormat, directory: partial, labels: try await ds.labels(), media: media)
        var tracker = ExportTracker(total: epoch.length) { progress in line.update("exporting · \(progress.line)") }
        for try await streamed in epoch.itemsWithMedia() {
            let item = streamed.item
            var held: String?
            if !item.isRemoved, let sha = item.file.media.sha256 {
                // The address comes from the server: a path is made of it only when it is one.
                guard sha.count == 64, sha.allSatisfy(\.isHexDigit) else {
                    throw ValidationError("the server sent file \(item.file.id) with a malformed sha256 '\(sha)'")
                }
                let path = media.path(for: sha)
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if let bytes = streamed.mediaBuffer {
                    guard FileManager.default.createFile(atPath: path, contents: Data(bytes.readableBytesView)) else {
                        throw ValidationError("cannot write \(path)")
                    }
                } else {
                    try await ds.downloadMedia(of: item.file, to: path)
                }
                held = path
            }
            try writer.add(item)
            if let held { try? FileManager.default.removeItem(atPath: held) }
            tracker.advance(items: 1, files: item.isRemoved ? 0 : 1, instances: item.isRemoved ? 0 : item.instances.count)
        }
        return (try writer.finish(seconds: (ContinuousClock.now - started).seconds), epoch.version)
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
