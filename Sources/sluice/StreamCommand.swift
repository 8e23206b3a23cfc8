import ArgumentParser
import Foundation
import Sluice

struct StreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Stream a dataset's or a slice's items from a server: one epoch, shuffled and sharded if asked.",
        discussion: """
            Prints, on its last line (stderr), the items received, the rate, the time to the first item
            and the bytes received. With --output ndjson each item is also written as one JSON line on
            stdout, in stream order. --state-file writes the stream's token when the command ends (also
            after --limit or an error), and --resume continues from tokens: one token to go on as the same
            rank, or the tokens of every rank of a stopped run to continue it with another world size.

              sluice stream --project coco-dataset --dataset Default --output ndjson | jq .file.name
              sluice stream --project p --dataset D --query 'labels.cat > 0' --seed 7 --epoch 2 --rank 0 --world-size 4
              sluice stream --project p --dataset D --version v1 --output ndjson > v1.ndjson
              sluice stream --project p --dataset D --resume "$(cat rank0.token)" --resume "$(cat rank1.token)" --rank 0 --world-size 1
            """)

    @Option(help: "Project id.")
    var project: String

    @Option(help: "Dataset name.")
    var dataset: String?

    @Option(help: "Stream the slice this query selects.")
    var query: String?

    @Option(help: "Read the dataset as it was at this version: a snapshot name or a version number.")
    var version: String?

    @Option(help: "Range requests kept in flight.")
    var prefetch: Int = 4

    @Option(name: [.customLong("range-size"), .customLong("page-size")], help: "Items per range request.")
    var rangeSize: Int?

    @Option(help: "Shuffle with this seed (the same seed and epoch give the same order everywhere).")
    var seed: UInt64?

    @Option(help: "Epoch number, for the shuffle.")
    var epoch: Int = 0

    @Option(help: "Shuffle blocks of this many neighbouring items (0: every item on its own).")
    var blockSize: Int = 0

    @Option(help: "This consumer's rank.")
    var rank: Int = 0

    @Option(help: "Number of ranks sharing the epoch.")
    var worldSize: Int = 1

    @Option(help: "Items left over when the count does not divide by the world size: keep, drop or pad.")
    var tail: String = "keep"

    @Option(help: "Continue from a stream token (repeat for the tokens of every rank of a stopped run).")
    var resume: [String] = []

    @Option(help: "Write the stream's token to this file when the command ends.")
    var stateFile: String?

    @Flag(help: "Also receive each item's media bytes.")
    var media = false

    @Option(help: "Stop after this many items.")
    var limit: Int?

    @Option(help: "Write items to stdout: ndjson.")
    var output: OutputFormat?

    @OptionGroup var server: ServerOptions

    enum OutputFormat: String, ExpressibleByArgument { case ndjson }

    func validate() throws {
        guard resume.isEmpty || (dataset == nil && query == nil && seed == nil && version == nil) else {
            throw ValidationError("--resume takes the dataset, version, query and shuffle from the token; leave those out")
        }
        guard !resume.isEmpty || dataset != nil else { throw ValidationError("--dataset is required") }
        guard ShardTail(rawValue: tail) != nil else { throw ValidationError("--tail must be keep, drop or pad") }
    }

    func run() async throws {
        HeapTuning.keepFreedMemoryForReuse()
        let started = ContinuousClock.now
        let handle = try await Project(id: project, host: server.host, apiKey: server.apiKey)
        let shard = Shard(rank: rank, worldSize: worldSize, tail: ShardTail(rawValue: tail)!)
        let epoch = try await makeEpoch(handle, shard: shard)
        let streamStart = ContinuousClock.now
        var firstItem: Duration?
        var count = 0
        var out = Data()
        let remaining = limit ?? Int.max

        func deliver(_ item: Item) throws {
            if firstItem == nil { firstItem = ContinuousClock.now - streamStart }
            count += 1
            if output == .ndjson {
                let line = try Self.encoder.encode(item)
                out.append(line)
                out.append(0x0A)
                if out.count >= 1 << 16 {
                    try FileHandle.standardOutput.write(contentsOf: out)
                    out.removeAll(keepingCapacity: true)
                }
            }
        }

        do {
            defer { try? saveState(epoch) }
            if remaining > 0 {
                if media {
                    for try await streamed in epoch.itemsWithMedia(prefetch: prefetch, rangeSize: rangeSize ?? 64) {
                        try deliver(streamed.item)
                        if count == remaining { break }
                    }
                } else {
                    for try await item in epoch.items(prefetch: prefetch, rangeSize: rangeSize ?? 256) {
                        try deliver(item)
                        if count == remaining { break }
                    }
                }
            }
            if !out.isEmpty { try FileHandle.standardOutput.write(contentsOf: out) }
        } catch let error as CocoaError where (error.underlying as? POSIXError)?.code == .EPIPE {
            // The reader of stdout has gone (`| head`): stop as other Unix tools do, quietly.
            return
        }
        let seconds = (ContinuousClock.now - streamStart).seconds
        let total = (ContinuousClock.now - started).seconds
        let megabytes = Double(epoch.receivedBytes) / 1e6
        printError(
            String(
                format: "received %d items in %.3f s · %.0f items/s · first item after %.1f ms (%.3f s in all)"
                    + " · %.1f MB · %.1f MB/s",
                count, seconds, seconds > 0 ? Double(count) / seconds : 0, (firstItem ?? .zero).seconds * 1000, total,
                megabytes, seconds > 0 ? megabytes / seconds : 0))
    }

    private func makeEpoch(_ handle: Project, shard: Shard) async throws -> Epoch {
        if !resume.isEmpty {
            let sameShard = resume.count == 1 && (rank == 0 && worldSize == 1)
            return try await handle.resume(resume, as: sameShard ? nil : shard)
        }
        var ds = try await handle.datasets.get(name: dataset!)
        if let version { ds = try await ds.at(version) }
        var epoch = try await (query == nil ? ds.epoch() : ds.slice(query!).epoch())
        if let seed { epoch = try epoch.shuffled(seed: seed, epoch: self.epoch, blockSize: blockSize) }
        if shard != .whole { epoch = try epoch.sharded(rank: shard.rank, worldSize: shard.worldSize, tail: shard.tail) }
        return epoch
    }

    private func saveState(_ epoch: Epoch) throws {
        guard let stateFile else { return }
        try Data((epoch.state.token + "\n").utf8).write(to: URL(fileURLWithPath: absolutePath(stateFile)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
