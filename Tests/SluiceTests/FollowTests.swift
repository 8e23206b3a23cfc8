import Foundation
import Sluice
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// `Dataset.follow` against a live server on 127.0.0.1 over a real SQLite store. The time
/// limit only turns a follower that never delivers into a failure instead of a hang.
// The limit catches a hang; it is generous because every suite runs at once on both engines.
@Suite(.timeLimit(.minutes(5))) struct FollowTests {
    /// Adds a file-level instance to the item at `position`: a write that changes that item.
    @discardableResult
    static func annotate(_ store: any Store, datasetID: Int64, position: Int) async throws -> Instance {
        let file = try await store.items(datasetID: datasetID, range: position..<(position + 1))[0].file
        return try await store.addInstance(
            Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil, attributes: ["note": .string("at \(position)")]))
    }

    /// Appends `files` generated files to the sample dataset in one import.
    static func append(_ files: Int, to store: any Store, in directory: URL) async throws {
        try await store.importGenerated(
            files: files, instancesPerFile: 1, projectID: "coco-dataset", dataset: "Default", in: directory)
    }

    static func summary(_ followed: FollowedItem) -> String {
        "\(followed.kind) \(followed.position)"
    }

    @Test(arguments: StoreEngine.available) func deliversWhatAConcurrentWriterAddsAndChangesInOrderOnce(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let stored = try await store.importSample()
            let start = ChangeCursor(seq: try await store.changeCursor(datasetID: stored.id))
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await Self.append(5, to: store, in: directory)
                        try await Self.annotate(store, datasetID: stored.id, position: 2)
                        try await Self.annotate(store, datasetID: stored.id, position: 11)
                    }
                    var seen: [FollowedItem] = []
                    for try await followed in dataset.follow(from: start, wait: .seconds(10)) {
                        seen.append(followed)
                        if seen.count == 7 { break }
                    }
                    try await group.waitForAll()
                    #expect(seen.map(Self.summary) == [
                        "added 9", "added 10", "added 11", "added 12", "added 13", "changed 2", "changed 11",
                    ])
                    #expect(seen.allSatisfy { $0.item.position == $0.position })
                    #expect(seen[..<5].map(\.item.file.name) == (1...5).map { String(format: "%08d.png", $0) })
                    // A changed item is fetched after its change: it has the new instance.
                    #expect(seen[5].item.instances.contains { $0.attributes["note"] == "at 2" })
                    #expect(seen[6].item.instances.contains { $0.attributes["note"] == "at 11" })
                    #expect(seen[6].cursor.seq > seen[5].cursor.seq)
                }
            }
        }
    }

    @Test(arguments: StoreEngine.available) func resumesFromASavedCursorWithNothingLostOrRepeated(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let stored = try await store.importSample()
            let start = ChangeCursor(seq: try await store.changeCursor(datasetID: stored.id))
            try await Self.append(10, to: store, in: directory)
            try await Self.annotate(store, datasetID: stored.id, position: 4)
            let expected = (9..<19).map { "added \($0)" } + ["changed 4"]
            // Pages of 3: the follower fetches one change's items in several requests.
            try await withLiveServer(store: store, configuration: ServerConfiguration(maxPageSize: 3)) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                var first: [String] = []
                var saved: ChangeCursor?
                for try await followed in dataset.follow(from: start, wait: .seconds(5)) {
                    first.append(Self.summary(followed))
                    if first.count == 4 {
                        saved = followed.cursor
                        break
                    }
                }
                // The cursor survives being written down, as a checkpoint would keep it.
                let restored = try JSONDecoder().decode(ChangeCursor.self, from: JSONEncoder().encode(try #require(saved)))
                #expect(restored == saved)
                var rest: [String] = []
                var afterTheImport: ChangeCursor?
                for try await followed in dataset.follow(from: restored, wait: .seconds(5)) {
                    rest.append(Self.summary(followed))
                    if followed.position == 18 { afterTheImport = followed.cursor }
                    if first.count + rest.count == expected.count { break }
                }
                #expect(first + rest == expected)
                // Resuming at the end of a change goes on with the next one.
                var next: String?
                let resumeAt: ChangeCursor = try #require(afterTheImport)
                for try await followed in dataset.follow(from: resumeAt, wait: .seconds(5)) {
                    next = Self.summary(followed)
                    break
                }
                #expect(next == "changed 4")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func includeExistingDeliversEveryItemThenFollows(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let expected = try await store.items(datasetID: stored.id, range: 0..<stored.count)
            try await withLiveServer(store: store, configuration: ServerConfiguration(maxPageSize: 4)) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                var existing: [Item] = []
                var saved: ChangeCursor?
                for try await followed in dataset.follow(includeExisting: true, wait: .seconds(10)) {
                    #expect(followed.kind == .existing)
                    existing.append(followed.item)
                    if existing.count == 3 {
                        saved = followed.cursor
                        break
                    }
                }
                var last: FollowedItem?
                let savedCursor: ChangeCursor = try #require(saved)
                for try await followed in dataset.follow(from: savedCursor, wait: .seconds(10)) {
                    if followed.kind == .existing {
                        existing.append(followed.item)
                        // Every existing item is delivered: now a change, to be followed. To the
                        // last one, whose page the follower has just read: it must read it again.
                        if existing.count == expected.count {
                            try await Self.annotate(store, datasetID: stored.id, position: expected.count - 1)
                        }
                        continue
                    }
                    last = followed
                    break
                }
                #expect(existing == expected)
                #expect(last.map(Self.summary) == "changed \(expected.count - 1)")
                #expect(last?.item.instances.contains { $0.attributes["note"] == .string("at \(expected.count - 1)") } == true)
            }
        }
    }

    @Test func followsAcrossAServerRestartOnTheSameDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let first = try SQLiteStore(directory: directory)
            let stored = try await first.importSample()
            let start = ChangeCursor(seq: try await first.changeCursor(datasetID: stored.id))
            let port = try freePort()
            let configuration = ClientConfiguration(
                host: "http://127.0.0.1:\(port)",
                retry: RetryPolicy(maxAttempts: 100, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200)))
            let received = Received()
            // The follower runs across both servers.
            let follower = Task {
                do {
                    let dataset = try await Project(id: "coco-dataset", configuration: configuration)
                        .datasets.get(name: "Default")
                    for try await followed in dataset.follow(from: start, wait: .seconds(5)) {
                        await received.add(Self.summary(followed))
                    }
                    await received.end(nil)
                } catch {
                    await received.end(error)
                }
            }
            try await withLiveServer(store: first, port: port) { _ in
                try await Self.annotate(first, datasetID: stored.id, position: 1)
                _ = await received.first(1)
            }
            // No server now; another store on the same file writes meanwhile.
            let second = try SQLiteStore(directory: directory)
            try await Self.annotate(second, datasetID: stored.id, position: 3)
            try await withLiveServer(store: second, port: port) { _ in
                _ = await received.first(2)
                try await Self.append(2, to: second, in: directory)
                _ = await received.first(4)
            }
            follower.cancel()
            _ = await follower.value
            #expect(await received.items == ["changed 1", "changed 3", "added 9", "added 10"])
            let failure = await received.failure
            #expect(failure == nil || failure is CancellationError, "ended by the cancel, not by \(String(describing: failure))")
        }
    }
}

/// What a follower task delivered, for a test to wait on.
actor Received {
    private(set) var items: [String] = []
    private(set) var failure: (any Error)?
    private var ended = false
    private var waiters: [(count: Int, continuation: CheckedContinuation<[String], Never>)] = []

    func add(_ item: String) {
        items.append(item)
        resumeWaiters()
    }

    func end(_ error: (any Error)?) {
        failure = error
        ended = true
        resumeWaiters()
    }

    /// The first `count` items, once they are there (or all there are once the follower ended).
    func first(_ count: Int) async -> [String] {
        if items.count >= count || ended { return Array(items.prefix(count)) }
        return await withCheckedContinuation { waiters.append((count, $0)) }
    }

    private func resumeWaiters() {
        waiters.removeAll { waiter in
            guard items.count >= waiter.count || ended else { return false }
            waiter.continuation.resume(returning: Array(items.prefix(waiter.count)))
            return true
        }
    }
}
