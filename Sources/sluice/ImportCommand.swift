import ArgumentParser
import Foundation
import SluiceImport
import SluiceModel
import SluiceStore

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import annotations into a dataset.",
        subcommands: [ImportCOCOCommand.self])
}

struct ImportCOCOCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coco",
        abstract: "Import a COCO annotation file (instances, keypoints, captions, labels).",
        discussion: """
            The whole file is imported in one transaction: on any error nothing is kept, and the error
            names the JSON path of the fault (e.g. annotations[1041].bbox). Images are copied into the
            store's content-addressed media directory when --images is given.

              sluice import coco person_keypoints_val2017.json --project coco-dataset --dataset Default \\
                  --images val2017/ --data ~/sluice-data
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
        let sluiceStore = try store.require(
            "importing through a server (--host) is not available yet; pass --data DIR to import into the embedded store")
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
}
