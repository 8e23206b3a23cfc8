import Foundation
import Sluice
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// The local cache against a live server over a real SQLite store: a second epoch reads
/// unchanged items from disk (no stream bytes), changed ones again, runs with the server
/// gone, and refetches a damaged entry.
@Suite struct LocalCacheTests {
    static func project(_ host: String, cache: LocalCache) async throws -> Project {
        try await Project(id: "coco-dataset", configuration: ClientConfiguration(host: host, cache: cache))
    }

    static func epochItems(_ dataset: Dataset, seed: UInt64 = 3) async throws -> (items: [Item], bytes: Int) {
        let epoch = try await dataset.epoch().shuffled(seed: seed, epoch: 1)
        var items: [Item] = []
        for try await item in epoch.items(prefetch: 2, rangeSize: 3) { items.append(item) }
        return (items, epoch.receivedBytes)
    }

    @Test(arguments: StoreEngine.available) func aSecondEpochReadsUnchangedItemsFromDiskAndChangedOnesAgain(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let stored = try await store.importSample()
            let cache = try LocalCache(directory: directory.appending(path: "cache"), maxBytes: 1 << 30)
            try await withLiveServer(store: store) { host in
                let dataset = try await Self.project(host, cache: cache).datasets.get(name: "Default")
                let first = try await Self.epochItems(dataset)
                #expect(first.items.count == 9 && first.bytes > 0)
                #expect(cache.statistics.entries >= 9)

                let second = try await Self.epochItems(dataset)
                #expect(second.items == first.items)
                #expect(second.bytes == 0, "every item came from the cache")

                try await FollowTests.annotate(store, datasetID: stored.id, position: 4)
                let hitsBefore = cache.statistics.hits
                let third = try await Self.epochItems(dataset)
                #expect(third.bytes > 0)
                #expect(cache.statistics.hits - hitsBefore == 8, "only the changed item was fetched")
                let changed = try #require(third.items.first { $0.position == 4 })
                #expect(changed.instances.count == first.items.first { $0.position == 4 }!.instances.count + 1)
                let uncached = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                #expect(changed == (try await uncached[4]))
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aPinnedVersionAndTheLiveDatasetKeepTheirOwnPositions(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let stored = try await store.importSample()
            let cache = try LocalCache(directory: directory.appending(path: "cache"), maxBytes: 1 << 30)
            let token = try await store.editorToken()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(
                    id: "coco-dataset", configuration: ClientConfiguration(host: host, apiKey: token, cache: cache)
                ).datasets.get(name: "Default")
                _ = try await dataset.createSnapshot(name: "v1")
                let pinned = try await dataset.at("v1")
                let before = try await Self.epochItems(pinned).items
                try await FollowTests.annotate(store, datasetID: stored.id, position: 4)
                let live = try await Self.epochItems(dataset).items
                #expect(live.first { $0.position == 4 } != before.first { $0.position == 4 })
                let again = try await Self.epochItems(pinned)
                #expect(again.items == before, "the pinned epoch still reads v1")
                #expect(again.bytes == 0, "from the cache")
                #expect(try await Self.epochItems(dataset).items == live)
                // Without a cache too: a shuffled pinned epoch, and one resumed from its token.
                let project = try await Project(id: "coco-dataset", host: host)
                let plain = try await project.datasets.get(name: "Default").at("v1")
                #expect(try await Self.epochItems(plain).items == before)
                let epoch = try await plain.epoch().shuffled(seed: 3, epoch: 1)
                var resumed: [Item] = []
                for try await item in epoch.items(prefetch: 1, rangeSize: 2) {
                    resumed.append(item)
                    if resumed.count == 4 { break }
                }
                for try await item in try await project.resume(epoch.state.token).items() { resumed.append(item) }
                #expect(resumed == before)
            }
        }
    }

    @Test(arguments: StoreEngine.available) func anOfflineEpochNeedsNoServer(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            try await store.importSample()
            let folder = directory.appending(path: "cache")
            let online = try await withLiveServer(store: store) { host in
                let cache = try LocalCache(directory: folder, maxBytes: 1 << 30)
                let dataset = try await Self.project(host, cache: cache).datasets.get(name: "Default")
                let slice = try await dataset.slice("labels.person >= 2")
                var tensors: [[String: String]] = []
                for try await record in slice.tensors(rangeSize: 2) { tensors.append(record.metadata) }
                return (try await Self.epochItems(dataset).items, tensors, host)
            }
            // The server is gone: a new process's cache, on the same directory, offline.
            let cache = try LocalCache(directory: folder, maxBytes: 1 << 30, offline: true)
            let dataset = try await Self.project(online.2, cache: cache).datasets.get(name: "Default")
            #expect(try await Self.epochItems(dataset).items == online.0)
            var tensors: [[String: String]] = []
            for try await record in try await dataset.slice("labels.person >= 2").tensors(rangeSize: 2) {
                tensors.append(record.metadata)
            }
            #expect(tensors == online.1 && !tensors.isEmpty)
            // Another order of the same positions: every item is on disk.
            #expect(try await Self.epochItems(dataset, seed: 99).items.count == 9)
            // A query never run online has no slice in the cache.
            await #expect(throws: SluiceError.notCached(
                "POST /api/v1/datasets/\(dataset.id)/slices {\"query\":\"labels.person >= 3\"}"
            )) {
                _ = try await dataset.slice("labels.person >= 3")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aDamagedEntryIsDetectedAndFetchedAgain(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            try await store.importSample()
            let folder = directory.appending(path: "cache")
            let cache = try LocalCache(directory: folder, maxBytes: 1 << 30)
            try await withLiveServer(store: store) { host in
                let dataset = try await Self.project(host, cache: cache).datasets.get(name: "Default")
                let first = try await Self.epochItems(dataset)
                let entries = try FileManager.default.contentsOfDirectory(atPath: folder.appending(path: "items").path)
                    .filter { $0.hasPrefix("ndjson-") }.sorted()
                let victim = folder.appending(path: "items").appending(path: entries[0])
                var bytes = try [UInt8](Data(contentsOf: victim))
                bytes[bytes.count - 3] ^= 0x20
                try Data(bytes).write(to: victim)

                let second = try await Self.epochItems(dataset)
                #expect(second.items == first.items)
                #expect(cache.statistics.corrupted == 1)
                #expect(second.bytes > 0, "the damaged item was fetched again")
                let third = try await Self.epochItems(dataset)
                #expect(third.bytes == 0, "and cached again")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func theCacheStaysWithinItsBoundForgettingTheLeastRecentlyUsed(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            try await store.importSample()
            let folder = directory.appending(path: "cache")
            try await withLiveServer(store: store) { host in
                // Media records of the sample are 40–200 KB each: a 400 KB cache holds a few.
                let cache = try LocalCache(directory: folder, maxBytes: 400_000)
                let dataset = try await Self.project(host, cache: cache).datasets.get(name: "Default")
                let epoch = try await dataset.epoch()
                var files: [(id: Int64, revision: Int64)] = []
                for try await streamed in epoch.itemsWithMedia(prefetch: 1, rangeSize: 1) {
                    files.append((streamed.item.file.id, streamed.item.file.revision))
                }
                #expect(files.count == 9)
                let statistics = cache.statistics
                #expect(statistics.bytes <= 400_000 && statistics.evicted > 0)
                let items = folder.appending(path: "items")
                let names = try FileManager.default.contentsOfDirectory(atPath: items.path)
                let onDisk = try names.reduce(0) { sum, name in
                    sum + (try FileManager.default.attributesOfItem(atPath: items.appending(path: name).path)[.size] as! Int)
                }
                #expect(onDisk == statistics.bytes)
                func cached(_ file: (id: Int64, revision: Int64)) -> Bool {
                    names.contains("records-\(file.id)-\(file.revision)")
                }
                #expect(cached(files[8]), "the most recently used entry stays")
                #expect(!cached(files[0]), "the least recently used went first")
            }
        }
    }
}
