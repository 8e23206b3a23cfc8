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
        abstract: "Export a dataset (or a slice of it) as one COCO or sluice-json file.",
        discussion: """
            Reads the store a page at a time and writes as it reads: memory stays flat however large \
            the dataset. A COCO export of an imported COCO file gives back its ids and fields. The \
            file is written next to OUT and renamed when complete, so OUT is never half a document.

              sluice export --project coco-dataset --dataset Default --format coco --data ~/sluice-data out.json
              sluice export --project coco-dataset --dataset Default --format sluice-json \\
                  --query 'labels.person > 2' --host http://127.0.0.1:8085 people.json
            """)

    @Argument(help: "The file to write.")
    var out: String

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @Option(help: "coco or sluice-json.")
    var format: String

    @Option(help: "Export only the items this slice query selects, e.g. 'labels.cat > 0'.")
    var query: String?

    @Option(help: "The dataset version to export (default: the current one).")
    var version: String?

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard ExportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be coco or sluice-json, not '\(format)'")
        }
    }

    func run() async throws {
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
            if let sluiceStore = try store.open(memoryMapped: false) {
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

    private func exportEmbedded(_ sluiceStore: SQLiteStore, to handle: FileHandle, line: ProgressLine) async throws -> String {
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
        let exporter = DatasetExporter(
            source: ExportSource(store: sluiceStore, dataset: ds, positions: positions, version: pinned),
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

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}
