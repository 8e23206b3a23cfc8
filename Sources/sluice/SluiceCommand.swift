import ArgumentParser

@main
struct SluiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Stream annotated training data from a Sluice server.",
        discussion: """
            Start with `sluice quickstart`: it starts a server on a temporary store, imports the
            bundled sample and streams it through the Swift SDK.
            """,
        subcommands: [
            QuickstartCommand.self, ServeCommand.self, ImportCommand.self, GenerateCommand.self,
            StreamCommand.self, QueryCommand.self, ExportCommand.self, SnapshotCommand.self, DiffCommand.self,
            KeysCommand.self, ProjectCommand.self, TagCommand.self, BackupCommand.self, RestoreCommand.self, MigrateCommand.self,
        ])
}
