import ArgumentParser
import Foundation
import Sluice
import SluiceStore

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Pin dataset versions under names.",
        subcommands: [SnapshotCreateCommand.self, SnapshotListCommand.self])
}

struct SnapshotCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Pin the dataset's current version under a name.",
        discussion: """
            Reads at a snapshot (`?version=v1`, `dataset.at("v1")`, `sluice export --version v1`) return the
            same items forever, whatever is written later. Nothing is copied: rows carry their validity.

              sluice snapshot create --project coco-dataset --dataset Default --name v1 --data ~/sluice-data
            """)

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @Option(help: "The snapshot's name (not a number: numbers name versions).")
    var name: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let snapshot: SluiceModel.Snapshot
        if let sluiceStore = try await store.open(needsMedia: false) {
            let ds = try await sluiceStore.dataset(project: project, named: dataset)
            snapshot = try await sluiceStore.createSnapshot(datasetID: ds.id, name: name)
        } else {
            let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
            snapshot = try await handle.datasets.get(name: dataset).createSnapshot(name: name)
        }
        print("\(snapshot.name)\tversion \(snapshot.version)\t\(snapshot.count) files")
    }
}

struct SnapshotListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List a dataset's snapshots: name, version, files.")

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let snapshots: [SluiceModel.Snapshot]
        if let sluiceStore = try await store.open(needsMedia: false) {
            let ds = try await sluiceStore.dataset(project: project, named: dataset)
            snapshots = try await sluiceStore.snapshots(datasetID: ds.id)
        } else {
            let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
            snapshots = try await handle.datasets.get(name: dataset).snapshots()
        }
        for snapshot in snapshots { print("\(snapshot.name)\tversion \(snapshot.version)\t\(snapshot.count) files") }
    }
}
