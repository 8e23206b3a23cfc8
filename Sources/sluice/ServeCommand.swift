import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SluiceServer
import SluiceStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a store over HTTP.",
        discussion: """
            Opens (or creates) the embedded store in --data and serves the v1 API until SIGINT or SIGTERM,
            finishing requests in flight first.

              sluice serve --data ~/sluice-data --port 8085
            """)

    @Option(help: "Directory of the embedded store (created when missing).")
    var data: String

    @Option(help: "TCP port (0 picks a free one).")
    var port: Int = 8085

    @Option(help: "Address to bind.")
    var bind: String = "127.0.0.1"

    @Option(help: "PostgreSQL URL, for several servers sharing one database (not available yet).")
    var postgres: String?

    @Option(help: "Largest media upload, in bytes (413 past it).")
    var maxMediaBytes: Int64 = ServerConfiguration().maxMediaBytes

    @Option(help: "Largest JSON request body, in bytes (413 past it).")
    var maxJSONBytes: Int = ServerConfiguration().maxJSONBodyBytes

    @Option(help: "Deepest nesting of a JSON request body (400 past it).")
    var maxJSONDepth: Int = ServerConfiguration().maxJSONDepth

    func validate() throws {
        guard maxMediaBytes > 0, maxJSONBytes > 0, maxJSONDepth > 0 else {
            throw ValidationError("--max-media-bytes, --max-json-bytes and --max-json-depth must be positive")
        }
    }

    func run() async throws {
        if postgres != nil {
            throw ValidationError("the PostgreSQL store is not available yet; use --data for the embedded store")
        }
        let store = try SQLiteStore(directory: URL(fileURLWithPath: absolutePath(data)))
        var logger = Logger(label: "sluice")
        logger.logLevel = .info
        let app = SluiceAPI.buildApplication(
            store: store,
            configuration: ServerConfiguration(
                host: bind, port: port, maxJSONBodyBytes: maxJSONBytes, maxJSONDepth: maxJSONDepth,
                maxMediaBytes: maxMediaBytes),
            logger: logger
        ) { port in
            printError("sluice serving \(store.databasePath) on http://\(bind):\(port)")
        }
        try await app.runService()
    }
}
