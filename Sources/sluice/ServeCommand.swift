import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SluiceServer
import SluiceStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a store over HTTP.",
        discussion: """
            Opens (or creates) the embedded store in --data, or the PostgreSQL store at --postgres with the
            media directory --media that every server of it shares, and serves the v1 API until SIGINT or SIGTERM,
            finishing requests in flight first (for at most --shutdown-grace seconds). Logs one line per
            request to standard output; /healthz, /readyz and /metrics (Prometheus) are for operators.

              sluice serve --data ~/sluice-data --port 8085
              sluice serve --postgres postgres://sluice@db:5432/sluice --media /mnt/sluice-media --bind 0.0.0.0
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "TCP port (0 picks a free one).")
    var port: Int = 8085

    @Option(help: "Address to bind.")
    var bind: String = "127.0.0.1"

    @Option(help: "Largest media upload, in bytes (413 past it).")
    var maxMediaBytes: Int64 = ServerConfiguration().maxMediaBytes

    @Option(help: "Largest JSON request body, in bytes (413 past it).")
    var maxJSONBytes: Int = ServerConfiguration().maxJSONBodyBytes

    @Option(help: "Deepest nesting of a JSON request body (400 past it).")
    var maxJSONDepth: Int = ServerConfiguration().maxJSONDepth

    @Option(help: "Largest page of items one request returns.")
    var maxPageSize: Int = ServerConfiguration().maxPageSize

    @Option(help: "Longest slice query, in bytes (400 past it).")
    var maxQueryBytes: Int = ServerConfiguration().maxQueryBytes

    @Option(help: "Streams one client address may have open at once (429 past it).")
    var maxStreamsPerClient: Int = ServerConfiguration().maxStreamsPerClient

    @Option(help: "Invalid API keys one address may present within --failed-key-window seconds before its key attempts are refused (429).")
    var failedKeyLimit: Int = ServerConfiguration().failedKeyLimit

    @Option(help: "The window of --failed-key-limit, in seconds.")
    var failedKeyWindow: Int = 60

    @Option(help: "Seconds that SIGTERM or SIGINT leaves streams in flight to finish before they are cut.")
    var shutdownGrace: Double = 30

    @Option(help: "Request log level: one line per request at info (trace, debug, info, notice, warning, error).")
    var logLevel: String = "info"

    func validate() throws {
        guard store.isGiven else { throw ValidationError("give --data DIR, or --postgres URL with --media DIR") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be 0 or more seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard maxMediaBytes > 0, maxJSONBytes > 0, maxJSONDepth > 0 else {
            throw ValidationError("--max-media-bytes, --max-json-bytes and --max-json-depth must be positive")
        }
        guard maxPageSize > 0, maxQueryBytes > 0, maxStreamsPerClient > 0, failedKeyLimit > 0, failedKeyWindow > 0 else {
            throw ValidationError(
                "--max-page-size, --max-query-bytes, --max-streams-per-client, --failed-key-limit and --failed-key-window must be positive")
        }
    }

    func run() async throws {
        HeapTuning.keepFreedMemoryForReuse()
        let sluiceStore = try await store.require("give --data DIR, or --postgres URL with --media DIR")
        let location = store.location
        // The log (a line per request) on standard output; the address and errors on standard error.
        var logger = Logger(label: "sluice", factory: { StreamLogHandler.standardOutput(label: $0) })
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let app = SluiceAPI.buildApplication(
            store: sluiceStore,
            configuration: ServerConfiguration(
                host: bind, port: port, maxPageSize: maxPageSize, maxJSONBodyBytes: maxJSONBytes,
                maxJSONDepth: maxJSONDepth, maxMediaBytes: maxMediaBytes, maxQueryBytes: maxQueryBytes,
                maxStreamsPerClient: maxStreamsPerClient, failedKeyLimit: failedKeyLimit,
                failedKeyWindow: .seconds(failedKeyWindow), webRoot: ProcessInfo.processInfo.environment["SLUICE_WEB_ROOT"]),
            logger: logger
        ) { port in
            printError("sluice serving \(location) on http://\(bind):\(port)")
        }
        // A signal stops new connections and lets requests in flight finish (long polls answer
        // at once); past the grace, what is still running is cancelled.
        var group = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownGrace * 1000))
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
    }
}
