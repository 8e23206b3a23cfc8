import ArgumentParser
import Foundation
import Sluice
import SluiceStore

struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Tag datasets: names a slice query tests as dataset.tag (Diffgram's dataset_tag.tag).",
        subcommands: [TagAddCommand.self, TagListCommand.self, TagRemoveCommand.self])
}

/// `--project` and `--dataset`, and where the store is: the options every tag command takes.
struct TaggedDatasetOptions: ParsableArguments {
    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    /// Runs `local` on the embedded store (--data), else `remote` through the server (--host).
    func run(
        local: (any Store, SluiceModel.Dataset) async throws -> [String],
        remote: (Sluice.Dataset) async throws -> [String]
    ) async throws -> [String] {
        if let sluiceStore = try await store.open(needsMedia: false) {
            return try await local(sluiceStore, try await sluiceStore.dataset(project: project, named: dataset))
        }
        let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
        return try await remote(try await handle.datasets.get(name: dataset))
    }
}

struct TagAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add tags to a dataset and print all its tags, one a line.",
        discussion: """
            A tag has 1 to 256 bytes and no control characters. Through a server, this needs an editor key.

              sluice tag add reviewed night --project coco-dataset --dataset Default --data ~/sluice-data
              sluice query "dataset.tag = 'reviewed' and labels.person > 0" --project coco-dataset --dataset Default
            """)

    @Argument(help: "The tags to add.")
    var tags: [String]

    @OptionGroup var options: TaggedDatasetOptions

    func run() async throws {
        let all = try await options.run(
            local: { store, dataset in try await store.addDatasetTags(datasetID: dataset.id, tags) },
            remote: { dataset in try await dataset.addTags(tags) })
        for tag in all { print(tag) }
    }
}

struct TagListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print a dataset's tags, one a line.",
        discussion: """
              sluice tag list --project coco-dataset --dataset Default
            """)

    @OptionGroup var options: TaggedDatasetOptions

    func run() async throws {
        let all = try await options.run(
            local: { store, dataset in try await store.datasetTags(datasetID: dataset.id) },
            remote: { dataset in try await dataset.tags() })
        for tag in all { print(tag) }
    }
}

struct TagRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a tag from a dataset and print the tags left, one a line.",
        discussion: """
            Fails when the dataset does not have the tag. Through a server, this needs an editor key.

              sluice tag remove reviewed --project coco-dataset --dataset Default --data ~/sluice-data
            """)

    @Argument(help: "The tag to remove.")
    var tag: String

    @OptionGroup var options: TaggedDatasetOptions

    func run() async throws {
        let left = try await options.run(
            local: { store, dataset in try await store.removeDatasetTag(datasetID: dataset.id, tag) },
            remote: { dataset in try await dataset.removeTag(tag) })
        for tag in left { print(tag) }
    }
}
