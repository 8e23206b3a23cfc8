import ArgumentParser
import Foundation
import Sluice
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
            reads keys from the store on every request; or asks a running server (--host) with an
            admin key of the project or a server admin key (--api-key). The store keeps only the
            secret's SHA-256.
            Prints the client id, the secret, and the token `client_id:secret` that the Sluice SDKs
            and `--api-key` take (the diffgram SDK takes client_id= and client_secret=).

              sluice keys create --project coco-dataset --role viewer --data ~/sluice-data
              sluice keys create --project coco-dataset --role editor --host http://127.0.0.1:8085 --api-key ADMIN

            A server admin key (--server-admin) may do anything to every project, and is the
            only key that creates projects through the API:

              sluice keys create --server-admin --data ~/sluice-data
            """)

    @Option(help: "Project id.")
    var project: String?

    @Option(help: "viewer (reads), editor (reads and writes) or admin.")
    var role: APIKeyRole?

    @Flag(help: "Create a server-wide admin key instead of a project key.")
    var serverAdmin = false

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    func validate() throws {
        if serverAdmin {
            guard project == nil, role == nil else {
                throw ValidationError("--server-admin makes a key of the whole server: drop --project and --role")
            }
        } else if project == nil || role == nil {
            throw ValidationError("pass --project and --role, or --server-admin")
        }
    }

    func run() async throws {
        guard let sluiceStore = try await store.open(needsMedia: false) else {
            guard !serverAdmin, let project, let role else {
                throw ValidationError("a server admin key is made only in the store itself: pass --data DIR or --postgres URL --media DIR")
            }
            let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
            let token = try await handle.createKey(role: role.rawValue)
            let clientID = String(token.prefix { $0 != ":" })
            print("client_id: \(clientID)")
            print("client_secret: \(token.dropFirst(clientID.count + 1))")
            print("api_key: \(token)")
            return
        }
        let key = NewAPIKey.generate(projectID: serverAdmin ? nil : project, role: role ?? .admin)
        try await sluiceStore.insertAPIKey(key.stored)
        print("client_id: \(key.stored.clientID)")
        print("client_secret: \(key.secret)")
        print("api_key: \(key.token)")
    }
}
