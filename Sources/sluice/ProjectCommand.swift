import ArgumentParser
import Foundation
import SluiceStore

struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Change a project's settings.",
        subcommands: [SetPrivateCommand.self, SetPublicCommand.self])
}

struct SetPrivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-private",
        abstract: "Make a project private: every read needs an API key of the project.",
        discussion: """
              sluice project set-private coco-dataset --data ~/sluice-data
            """)

    @Argument(help: "Project id.")
    var project: String

    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await setVisibility(of: project, isPublic: false, store: store)
        printError("project \(project) is private")
    }
}

struct SetPublicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-public",
        abstract: "Make a project public: anyone can read it without a key (writes still need one).",
        discussion: """
              sluice project set-public coco-dataset --data ~/sluice-data
            """)

    @Argument(help: "Project id.")
    var project: String

    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await setVisibility(of: project, isPublic: true, store: store)
        printError("project \(project) is public")
    }
}

private func setVisibility(of project: String, isPublic: Bool, store: StoreOptions) async throws {
    let sluiceStore = try store.require("visibility is changed in the embedded store: pass --data DIR")
    try await sluiceStore.setProjectPublic(id: project, isPublic: isPublic)
}
