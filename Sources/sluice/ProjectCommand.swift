import ArgumentParser
import Foundation
import Sluice
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
              sluice project set-private coco-dataset --host http://127.0.0.1:8085 --api-key ADMIN
            """)

    @Argument(help: "Project id.")
    var project: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await setVisibility(of: project, isPublic: false, store: store, server: server)
        printError("project \(project) is private")
    }
}

struct SetPublicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-public",
        abstract: "Make a project public: anyone can read it without a key (writes still need one).",
        discussion: """
              sluice project set-public coco-dataset --data ~/sluice-data
              sluice project set-public coco-dataset --host http://127.0.0.1:8085 --api-key ADMIN
            """)

    @Argument(help: "Project id.")
    var project: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func run() async throws {
        try await setVisibility(of: project, isPublic: true, store: store, server: server)
        printError("project \(project) is public")
    }
}

/// Through the embedded store (--data), else through the server (--host, with an admin key).
private func setVisibility(of project: String, isPublic: Bool, store: StoreOptions, server: ServerOptions) async throws {
    if let sluiceStore = try await store.open(needsMedia: false) {
        try await sluiceStore.setProjectPublic(id: project, isPublic: isPublic)
    } else {
        try await Project(id: project, host: server.host, apiKey: server.apiKey).setPublic(isPublic)
    }
}
