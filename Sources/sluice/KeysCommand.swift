import ArgumentParser
import Foundation
import SluiceStore

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys.",
        subcommands: [CreateKeyCommand.self])
}

extension APIKeyRole: ExpressibleByArgument {}

struct CreateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key for a project and print it (the secret is shown only this once).",
        discussion: """
            Writes into the embedded store (--data), beside a running server or not: the server
            reads keys from the store on every request. The store keeps only the secret's SHA-256.
            Prints the client id, the secret, and the token `client_id:secret` that the Sluice SDKs
            and `--api-key` take (the diffgram SDK takes client_id= and client_secret=).

              sluice keys create --project coco-dataset --role viewer --data ~/sluice-data
            """)

    @Option(help: "Project id.")
    var project: String

    @Option(help: "viewer (reads), editor (reads and writes) or admin.")
    var role: APIKeyRole

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let sluiceStore = try store.require("keys are created in the embedded store: pass --data DIR")
        let key = NewAPIKey.generate(projectID: project, role: role)
        try await sluiceStore.insertAPIKey(key.stored)
        print("client_id: \(key.stored.clientID)")
        print("client_secret: \(key.secret)")
        print("api_key: \(key.token)")
    }
}
