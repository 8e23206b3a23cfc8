import Foundation
import SluiceStore
import SluiceTestSupport
import Testing

@testable import Sluice
@testable import SluiceServer

/// Epochs against a live server: shuffled and sharded streams, tokens, elastic resumption,
/// slices and media.
@Suite struct EpochTests {
    func withGenerated(
        files: Int = 500, _ body: @escaping @Sendable (Project, Dataset, SQLiteStore) async throws -> Void
    ) async throws {
        try await withTemporaryStore { store, directory in
            try await store.importGenerated(files: files, instancesPerFile: 2, labels: 6, in: directory)
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "generated", host: host)
                try await body(project, try await project.datasets.get(name: "Default"), store)
            }
        }
    }

    static func positions(_ epoch: Epoch, prefetch: Int = 3, rangeSize: Int = 40, stopAfter limit: Int = .max)
        async throws -> [Int]
    {
        var positions: [Int] = []
        for try await item in epoch.items(prefetch: prefetch, rangeSize: rangeSize) {
            positions.append(item.position)
            if positions.count == limit { break }
        }
        return positions
    }

    @Test func shardsOfAShuffledEpochAreDisjointAndCoverTheDataset() async throws {
        try await withGenerated { _, dataset, _ in
            let base = try await dataset.epoch().shuffled(seed: 2024, epoch: 3)
            var all: [Int] = []
            for rank in 0..<3 {
                let epoch = try base.sharded(rank: rank, worldSize: 3)
                let positions = try await Self.positions(epoch)
                #expect(positions == epoch.order.positions(0..<epoch.length), "the server's order is the client's")
                #expect(epoch.delivered == epoch.length)
                all += positions
            }
            #expect(all.sorted() == Array(0..<500))
            let again = try await Self.positions(try await dataset.epoch().shuffled(seed: 2024, epoch: 3))
            let next = try await Self.positions(try await dataset.epoch().shuffled(seed: 2024, epoch: 4))
            #expect(again == base.order.positions(0..<500))
            #expect(again != next)
        }
    }

    @Test func aTokenResumesExactlyWhereTheLoopStopped() async throws {
        try await withGenerated { project, dataset, _ in
            let epoch = try await dataset.epoch().shuffled(seed: 1, blockSize: 16).sharded(rank: 1, worldSize: 2)
            let first = try await Self.positions(epoch, stopAfter: 77)
            let token = epoch.state.token
            #expect(token.hasPrefix("sluice-stream-1."))
            #expect(epoch.state.delivered == 77)
            // As a new process would: nothing but the token.
            let resumed = try await project.resume(token)
            #expect(resumed.delivered == 77)
            let rest = try await Self.positions(resumed)
            #expect(first + rest == epoch.order.positions(0..<epoch.length))
            // The same epoch value also continues where its loop stopped.
            let tail = try await Self.positions(epoch)
            #expect(tail == rest)
        }
    }

    /// Issue 4's bar: 4 ranks stop mid-epoch, 3 resume from their tokens; every item of the
    /// epoch is delivered exactly once.
    @Test func fourRanksStopAndThreeFinishTheEpoch() async throws {
        try await withGenerated { project, dataset, _ in
            let base = try await dataset.epoch().shuffled(seed: 99, epoch: 0)
            var delivered: [Int] = []
            var tokens: [String] = []
            for (rank, stop) in [31, 45, 38, 0].enumerated() {
                let epoch = try base.sharded(rank: rank, worldSize: 4)
                delivered += try await Self.positions(epoch, stopAfter: stop)
                tokens.append(epoch.state.token)
            }
            var lengths: [Int] = []
            for rank in 0..<3 {
                let epoch = try await project.resume(tokens.shuffled(), as: Shard(rank: rank, worldSize: 3))
                lengths.append(epoch.length)
                delivered += try await Self.positions(epoch)
            }
            #expect(delivered.count == 500)
            #expect(delivered.sorted() == Array(0..<500))
            #expect(lengths.max()! - lengths.min()! <= 1)
        }
    }

    @Test func tokensThatDoNotFitAreRefusedWithTheReason() async throws {
        try await withGenerated(files: 50) { project, dataset, _ in
            let base = try await dataset.epoch().shuffled(seed: 5)
            let tokens = try (0..<3).map { try base.sharded(rank: $0, worldSize: 3).state.token }
            await #expect(throws: SluiceError.invalidArgument(
                "resuming with another world size needs the tokens of every rank of the run; missing ranks [2]")) {
                _ = try await project.resume(Array(tokens.prefix(2)), as: Shard(rank: 0, worldSize: 2))
            }
            let other = try await dataset.epoch().shuffled(seed: 6).sharded(rank: 2, worldSize: 3).state.token
            await #expect(throws: SluiceError.self) {
                _ = try await project.resume(Array(tokens.prefix(2)) + [other], as: Shard(rank: 0, worldSize: 2))
            }
            await #expect(throws: SluiceError.self) { _ = try await project.resume("sluice-stream-1.%%%") }
            await #expect(throws: SluiceError.self) { _ = try await project.resume("checkpoint-7") }
            #expect(throws: SluiceError.self) { _ = try base.sharded(rank: 3, worldSize: 3) }
        }
    }

    @Test func aSliceEpochStreamsTheSliceShuffled() async throws {
        try await withGenerated { project, dataset, store in
            let slice = try await dataset.slice("labels.label1 > 0")
            let epoch = try await slice.epoch().shuffled(seed: 8)
            var fileIDs: [Int64] = []
            for try await item in epoch.items(prefetch: 2, rangeSize: 25) { fileIDs.append(item.file.id) }
            let all = try await store.items(datasetID: dataset.id, range: 0..<500)
            let expected = all.filter { $0.instances.contains { $0.label == "label1" } }.map(\.file.id)
            #expect(fileIDs.count == expected.count)
            #expect(Set(fileIDs) == Set(expected))
            #expect(fileIDs != expected, "shuffled")
            let resumed = try await project.resume(epoch.state.token)
            #expect(resumed.sliceID == slice.id && resumed.delivered == expected.count)
        }
    }

    @Test(arguments: StoreEngine.available) func mediaArrivesWithItsItem(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                let epoch = try await dataset.epoch().shuffled(seed: 3)
                var positions: [Int] = []
                let sentBefore = FileSending.sentCount
                for try await streamed in epoch.itemsWithMedia(prefetch: 2, rangeSize: 2) {
                    positions.append(streamed.item.position)
                    let sha = try #require(streamed.item.file.media.sha256)
                    let media = try #require(streamed.media)
                    let onDisk = try Data(contentsOf: URL(fileURLWithPath: store.media.path(for: sha)))
                    #expect(media == Array(onDisk))
                }
                #expect(positions == epoch.order.positions(0..<9))
                // A live server sends the images from their files (sendfile), not from memory.
                #expect(FileSending.sentCount - sentBefore >= 9)
            }
        }
    }
}
