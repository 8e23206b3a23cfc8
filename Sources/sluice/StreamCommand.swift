import ArgumentParser
import Foundation
import Sluice

struct StreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Stream a dataset's items from a server.",
        discussion: """
            Prints, on its last line (stderr), the items received, the rate and the time to the first item.
            With --output ndjson each item is also written as one JSON line on stdout, in stream order.

              sluice stream --project coco-dataset --dataset Default --output ndjson | jq .file.name
            """)

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @Option(help: "Page requests kept in flight.")
    var prefetch: Int = 4

    @Option(help: "Items per page request.")
    var pageSize: Int = 256

    @Option(help: "Stop after this many items.")
    var limit: Int?

    @Option(help: "Write items to stdout: ndjson.")
    var output: OutputFormat?

    @OptionGroup var server: ServerOptions

    enum OutputFormat: String, ExpressibleByArgument { case ndjson }

    func run() async throws {
        let started = ContinuousClock.now
        let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
        let ds = try await handle.datasets.get(name: dataset)
        let streamStart = ContinuousClock.now
        var firstItem: Duration?
        var count = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let range = limit.map { 0..<$0 }
        var out = Data()
        for try await item in ds.items(prefetch: prefetch, pageSize: pageSize, range: range) {
            if firstItem == nil { firstItem = ContinuousClock.now - streamStart }
            count += 1
            if output == .ndjson {
                out.append(try encoder.encode(item))
                out.append(0x0A)
                if out.count >= 1 << 16 {
                    FileHandle.standardOutput.write(out)
                    out.removeAll(keepingCapacity: true)
                }
            }
        }
        if !out.isEmpty { FileHandle.standardOutput.write(out) }
        let seconds = (ContinuousClock.now - streamStart).seconds
        let total = (ContinuousClock.now - started).seconds
        printError(
            String(
                format: "received %d items in %.3f s · %.0f items/s · first item after %.1f ms (%.3f s with connect)",
                count, seconds, seconds > 0 ? Double(count) / seconds : 0, (firstItem ?? .zero).seconds * 1000, total))
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
