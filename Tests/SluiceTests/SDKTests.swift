import Foundation
import Sluice
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// The SDK against a live server on 127.0.0.1 over a real SQLite store.
@Suite struct SDKTests {
    @Test(arguments: StoreEngine.available) func walkthroughMatchesTheStore(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let expected = try await store.items(datasetID: stored.id, range: 7..<8)[0]
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host)
                #expect(project.info.name == "COCO sample")
                let dataset = try await project.datasets.get(name: "Default")
                #expect(try await dataset.count == 9)
                #expect(try await dataset[7] == expected)
                let viaDirectory = try await project.directory.get(name: "Default")
                #expect(viaDirectory.id == dataset.id)
                #expect(try await project.labels().map(\.name) == ["person"])
            }
        }
    }

    @Test(arguments: StoreEngine.available) func missingThingsAreNamed(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            try await withLiveServer(store: store) { host in
                await #expect(throws: SluiceError.notFound("no project with id 'nope'")) {
                    _ = try await Project(id: "nope", host: host)
                }
                let project = try await Project(id: "coco-dataset", host: host)
                await #expect(throws: SluiceError.notFound("project 'coco-dataset' has no dataset named 'Test set'")) {
                    _ = try await project.datasets.get(name: "Test set")
                }
                let dataset = try await project.datasets.get(name: "Default")
                await #expect(throws: SluiceError.positionOutOfRange(position: 9, count: 9)) { _ = try await dataset[9] }
                await #expect(throws: SluiceError.positionOutOfRange(position: -1, count: nil)) { _ = try await dataset[-1] }
            }
        }
    }

    @Test(arguments: [(1, 1), (2, 3), (4, 256), (8, 2)])
    func streamsEveryItemInOrder(prefetch: Int, pageSize: Int) async throws {
        try await withTemporaryStore { store, _ in
            let stored = try await store.importSample()
            let expected = try await store.items(datasetID: stored.id, range: 0..<9)
            // A page limit below the client's page size makes the server clip, which the client must follow.
            try await withLiveServer(store: store, configuration: ServerConfiguration(maxPageSize: 3)) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                var items: [Item] = []
                for try await item in dataset.items(prefetch: prefetch, pageSize: pageSize) { items.append(item) }
                #expect(items == expected)
                var middle: [Int] = []
                for try await item in dataset.items(prefetch: prefetch, pageSize: pageSize, range: 2..<7) {
                    middle.append(item.position)
                }
                #expect(middle == [2, 3, 4, 5, 6])
            }
        }
    }

    @Test func leavingAStreamEarlyIsClean() async throws {
        try await withTemporaryStore { store, directory in
            try await store.importGenerated(files: 3000, instancesPerFile: 1, in: directory)
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "generated", host: host).datasets.get(name: "Default")
                var seen = 0
                for try await _ in dataset.items(prefetch: 8, pageSize: 50) {
                    seen += 1
                    if seen == 120 { break }
                }
                #expect(seen == 120)
                #expect(try await dataset.count == 3000, "the connection pool still works after abandoned requests")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func retriesUntilTheServerIsUp(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            let port = try freePort()
            let host = "http://127.0.0.1:\(port)"
            // The client starts first; the server comes up 300 ms later on the same port.
            let client = Task {
                let configuration = ClientConfiguration(
                    host: host, retry: RetryPolicy(maxAttempts: 30, baseDelay: .milliseconds(50), maxDelay: .milliseconds(200)))
                return try await Project(id: "coco-dataset", configuration: configuration).datasets.get(name: "Default").count
            }
            try await Task.sleep(for: .milliseconds(300))
            let count = try await withLiveServer(store: store, port: port) { _ in try await client.value }
            #expect(count == 9)
        }
    }

    @Test func givesUpWithAClearErrorWhenNothingListens() async throws {
        let host = "http://127.0.0.1:\(try freePort())"
        let configuration = ClientConfiguration(host: host, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
        await #expect {
            _ = try await Project(id: "x", configuration: configuration)
        } throws: { error in
            guard case SluiceError.unreachable(let reported, _) = error else { return false }
            return reported == host
        }
    }

    /// Issue 2's scale check: a generated dataset of 100,000 files arrives exactly once, in order.
    @Test(arguments: StoreEngine.available) func streams100kFilesExactlyOnceInOrder(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let stored = try await store.importGenerated(files: 100_000, instancesPerFile: 1, labels: 10, in: directory)
            #expect(stored.count == 100_000)
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "generated", host: host).datasets.get(name: "Default")
                var expectedPosition = 0
                var fileIDs = Set<Int64>()
                var instances = 0
                for try await item in dataset.items(prefetch: 4, pageSize: 1000) {
                    #expect(item.position == expectedPosition)
                    if item.position != expectedPosition { break }
                    expectedPosition += 1
                    fileIDs.insert(item.file.id)
                    instances += item.instances.count
                    #expect(item.file.name == String(format: "%08d.png", item.position + 1))
                }
                #expect(expectedPosition == 100_000)
                #expect(fileIDs.count == 100_000)
                #expect(instances > 90_000)
            }
        }
    }
}
