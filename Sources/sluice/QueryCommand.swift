import ArgumentParser
import Foundation
import Sluice

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a slice query on a dataset.",
        discussion: """
            Prints the number of matching items, then the first items (--limit). A bad query is
            rejected before any work, with the column of the fault and the closest existing names.

              sluice query 'labels.person > 2 and file.width >= 640' --project coco-dataset --dataset Default
              sluice query 'labels.person > 0' --project coco-dataset --dataset Default --count
            """)

    @Argument(help: "The query, e.g. 'labels.cat > 3 and file.width >= 640'.")
    var query: String

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String

    @Flag(help: "Print the count alone.")
    var count = false

    @Option(help: "How many items to print.")
    var limit: Int = 10

    @Flag(help: "Print the SQL and the database's query plan.")
    var explain = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
        let ds = try await handle.datasets.get(name: dataset)
        let started = ContinuousClock.now
        let slice = try await ds.slice(query)
        let total = try await slice.count
        let elapsed = ContinuousClock.now - started
        if count {
            print(total)
            return
        }
        if explain {
            let plan = try await slice.explain()
            print(plan.sql)
            for line in plan.plan { print("  \(line)") }
            print()
        }
        print("\(total) items match \(slice.query) (\(String(format: "%.1f", elapsed.seconds * 1000)) ms)")
        if limit > 0, total > 0 {
            for try await item in slice.items(prefetch: 1, pageSize: min(limit, 1000), range: 0..<min(limit, total)) {
                print("  \(item)")
            }
        }
    }
}
