import ArgumentParser
import Foundation
import Sluice
import SluiceModel
import SluiceStore

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "List the files and instances added, removed or changed between two versions of a dataset.",
        discussion: """
            Versions are snapshot names or version numbers; `D` alone is the current version. One JSON \
            line per difference on stdout, in position order, as it streams; counts on stderr.

              sluice diff --project coco-dataset Default@v1 Default@v2 --data ~/sluice-data
              sluice diff --project coco-dataset Default@v1 Default | jq -c 'select(.kind == "instance_removed")'
            """)

    @Option(help: "Project id.")
    var project: String

    @Argument(help: "The first version: DATASET@VERSION.")
    var from: String

    @Argument(help: "The second version: DATASET@VERSION, or DATASET for now.")
    var to: String

    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions

    /// `D@v1` → ("D", "v1"); `D` → ("D", nil). The last `@` splits, so dataset names may hold one.
    static func split(_ text: String) -> (dataset: String, version: String?) {
        guard let at = text.lastIndex(of: "@") else { return (text, nil) }
        return (String(text[..<at]), String(text[text.index(after: at)...]))
    }

    func validate() throws {
        guard Self.split(from).dataset == Self.split(to).dataset else {
            throw ValidationError("both versions must be of one dataset: \(from) and \(to)")
        }
        guard Self.split(from).version != nil else { throw ValidationError("the first version needs @VERSION: \(from)") }
    }

    func run() async throws {
        let (dataset, fromVersion) = Self.split(from)
        let toVersion = Self.split(to).version
        var counts: [VersionDiffEntry.Kind: Int] = [:]
        let out = FileHandle.standardOutput
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func emit(_ entry: VersionDiffEntry) throws {
            counts[entry.kind, default: 0] += 1
            out.write(try encoder.encode(entry) + Data([10]))
        }
        if let sluiceStore = try await store.open(needsMedia: false) {
            let ds = try await sluiceStore.dataset(project: project, named: dataset)
            let a = try await sluiceStore.versionPoint(of: ds, named: fromVersion!)
            let b = try await sluiceStore.versionPoint(of: ds, named: toVersion ?? String(ds.version))
            for start in stride(from: 0, to: max(a.count, b.count), by: 4096) {
                for entry in try await sluiceStore.differences(from: a, to: b, positions: start..<(start + 4096)) {
                    try emit(entry)
                }
            }
        } else {
            let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
            try await handle.datasets.get(name: dataset).diff(from: fromVersion!, to: toVersion) { try emit($0) }
        }
        let summary = VersionDiffEntry.Kind.allCases.map { "\(counts[$0, default: 0]) \($0.rawValue.replacingOccurrences(of: "_", with: " "))" }
        printError(summary.joined(separator: ", "))
    }
}
