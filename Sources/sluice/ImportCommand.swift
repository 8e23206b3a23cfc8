import ArgumentParser
import Foundation
import Sluice
import SluiceImport
import SluiceModel
import SluiceStore

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import annotations into a dataset.",
        subcommands: [ImportCOCOCommand.self, ImportVOCCommand.self, ImportYOLOCommand.self, ImportLabelMeCommand.self, ImportCVATCommand.self, ImportDoccanoCommand.self])
}

struct ImportCOCOCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coco",
        abstract: "Import a COCO annotation file (instances, keypoints, captions, labels).",
        discussion: """
            The whole file is imported in one transaction: on any error nothing is kept, and the error
            names the JSON path of the fault (e.g. annotations[1041].bbox). Images are copied into the
            store's content-addressed media directory when --images is given; a file_name that leads
            outside --images (.., an absolute path, a symbolic link) refuses the import.

            With --data the store is written directly; with --host the images the server lacks, the
            file and a list of image hashes are uploaded, and the server imports them (an editor key
            of the project in --api-key; the project must exist).

              sluice import coco person_keypoints_val2017.json --project coco-dataset --dataset Default \\
                  --images val2017/ --data ~/sluice-data
              sluice import coco person_keypoints_val2017.json --project coco-dataset --dataset Default \\
                  --images val2017/ --host http://127.0.0.1:8085 --api-key KEY
            """)

    @Argument(help: "The COCO annotation file.")
    var file: String

    @Option(help: "Project id (created when missing).")
    var project: String

    @Option(help: "Dataset name (created when missing); files are appended.")
    var dataset: String

    @Option(help: "Directory that the images' file_name values are relative to.")
    var images: String?

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        guard let sluiceStore = try await store.open() else { return try await importThroughServer() }
        _ = try await sluiceStore.ensureProject(Project(id: project, name: project))
        let line = ProgressLine()
        let importer = COCOImporter(imagesDirectory: images.map(absolutePath)) { progress in
            line.update("importing · \(progress.line)")
        }
        let summary = try await importer.importFile(
            at: absolutePath(file), into: sluiceStore, projectID: project, datasetName: dataset)
        let rate = summary.seconds > 0 ? Double(summary.instances) / summary.seconds : 0
        line.finish(
            "imported \(summary.files) files, \(summary.instances) instances, \(summary.labels) labels, "
                + "\(summary.media) media into \(project)/\(dataset) in \(String(format: "%.2f", summary.seconds)) s "
                + "(\(Int(rate)) instances/s)")
    }

    /// `--host`: uploads the images the server lacks (content-addressed), the annotation file
    /// and the list of image hashes, then has the server import them in one transaction.
    private func importThroughServer() async throws {
        let handle = try await Sluice.Project(id: project, host: server.host, apiKey: server.apiKey)
        let annotations = absolutePath(file)
        let line = ProgressLine()
        var mediaList: String?
        if let images {
            let directory = absolutePath(images)
            let names = try COCOImporter.imageNames(at: annotations)
            var lines: [String] = []
            var seen: Set<String> = []
            let started = ContinuousClock.now
            for (index, image) in names.enumerated() where seen.insert(image.fileName).inserted {
                let path = try ConfinedPath.resolve(image.fileName, in: directory, field: image.field)
                guard FileManager.default.fileExists(atPath: path) else {
                    throw ImportError.missingMedia(path: image.field, file: path)
                }
                let media = try await handle.uploadMedia(fileAt: path)
                lines.append("\(media.sha256)\t\(image.fileName)")
                line.update("uploading media · " + Self.rate(done: index + 1, of: names.count, since: started))
            }
            let list = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-media-\(UUID().uuidString).tsv")
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: list)
            defer { try? FileManager.default.removeItem(at: list) }
            mediaList = try await handle.uploadMedia(fileAt: list.path).sha256
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: annotations)[.size] as? Int) ?? 0
        let started = ContinuousClock.now
        let uploaded = try await handle.uploadMedia(fileAt: annotations) { sent in
            line.update("uploading annotations · " + Self.rate(done: Int(sent), of: size, since: started, unit: "bytes"))
        }
        let summary = try await handle.importCOCO(
            dataset: dataset, annotationsSHA256: uploaded.sha256, mediaListSHA256: mediaList
        ) { progress in line.update("importing on the server · \(progress.line)") }
        let rate = summary.seconds > 0 ? Double(summary.instances) / summary.seconds : 0
        line.finish(
            "imported \(summary.files) files, \(summary.instances) instances, \(summary.labels) labels, "
                + "\(summary.media) media into \(project)/\(dataset) through \(server.host ?? ProcessInfo.processInfo.environment["SLUICE_HOST"] ?? "the server") in "
                + "\(String(format: "%.2f", summary.seconds)) s (\(Int(rate)) instances/s)")
    }

    /// `1,204/5,000 · 310/s · ETA 0:12`.
    static func rate(done: Int, of total: Int, since start: ContinuousClock.Instant, unit: String = "") -> String {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perSecond = seconds > 0 ? Double(done) / seconds : 0
        let left = perSecond > 0 ? Int((Double(total - done) / perSecond).rounded()) : 0
        let suffix = unit.isEmpty ? "" : " \(unit)"
        return "\(done)/\(total)\(suffix) · \(Int(perSecond))\(suffix)/s · ETA \(left / 60):\(String(format: "%02d", left % 60))"
    }
}
