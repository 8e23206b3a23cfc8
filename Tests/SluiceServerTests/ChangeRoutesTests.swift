import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `GET /api/v1/datasets/{id}/changes` over a real SQLite store: the feed, its long poll and
/// its errors. Long polls that a write should end ask to wait 60 s, longer than the live test
/// client's 20 s read timeout: a poll that the write does not wake fails the test instead of
/// answering late.
@Suite struct ChangeRoutesTests {
    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
    }

    /// The sample in a store, served by the router with `configuration` over `framework`.
    func withSampleApp(
        _ framework: TestingSetup = .router, configuration: ServerConfiguration = ServerConfiguration(),
        _ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore, Dataset, URL) async throws -> Void
    ) async throws {
        try await withTemporaryStore { store, directory in
            let dataset = try await store.importSample()
            let (router, _) = SluiceAPI.buildRouter(store: store, configuration: configuration)
            try await Application(router: router).test(framework) { client in
                try await body(client, store, dataset, directory)
            }
        }
    }

    @Test func withoutSinceTheFeedStartsAtItsCurrentEnd() async throws {
        try await withSampleApp { client, store, dataset, _ in
            let page = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/changes", method: .get) {
                #expect($0.status == .ok)
                return try Self.decode(ChangePage.self, $0)
            }
            #expect(page.datasetID == dataset.id)
            #expect(page.changes.isEmpty)
            #expect(page.cursor == (try await store.changeCursor(datasetID: dataset.id)))
            #expect(page.cursor > 0, "the sample's imports were recorded")
        }
    }

    @Test func sinceZeroPagesThroughEveryRecordedChange() async throws {
        try await withSampleApp { client, _, dataset, _ in
            var cursor: Int64 = 0
            var changes: [DatasetChange] = []
            while true {
                let page = try await client.execute(
                    uri: "/api/v1/datasets/\(dataset.id)/changes?since=\(cursor)&limit=2", method: .get
                ) { try Self.decode(ChangePage.self, $0) }
                #expect(page.changes.count <= 2)
                if page.changes.isEmpty {
                    #expect(page.cursor == cursor)
                    break
                }
                changes += page.changes
                cursor = page.cursor
            }
            #expect(changes.map(\.kind) == Array(repeating: .added, count: Fixtures.sampleSets.count))
            #expect(changes.flatMap(\.positions) == Array(0..<dataset.count))
        }
    }

    @Test func theReplyHasTheDocumentedFields() async throws {
        try await withSampleApp { client, _, dataset, _ in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/changes?since=0&limit=1", method: .get) {
                response in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(Set(object.keys) == ["dataset_id", "cursor", "changes"])
                let changes = try #require(object["changes"] as? [[String: Any]])
                #expect(changes.count == 1)
                #expect(Set(changes[0].keys) == ["seq", "kind", "start", "end"])
                #expect(changes[0]["kind"] as? String == "added")
                #expect(changes[0]["start"] as? Int == 0)
            }
        }
    }

    @Test func aLongPollAnswersWithAWriteThatCommitsDuringIt() async throws {
        // Polling the store once an hour: only the in-process notifier can wake this poll in time.
        try await withSampleApp(.live, configuration: ServerConfiguration(changePollInterval: .seconds(3600))) {
            client, store, dataset, _ in
            let cursor = try await store.changeCursor(datasetID: dataset.id)
            let file = try await store.items(datasetID: dataset.id, range: 5..<6)[0].file
            async let reply = client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/changes?since=\(cursor)&wait=60", method: .get
            ) { try Self.decode(ChangePage.self, $0) }
            // Not an assertion: gives the request time to be waiting when the write commits.
            try await Task.sleep(for: .milliseconds(300))
            _ = try await store.addInstance(Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil))
            let page = try await reply
            #expect(page.changes.map(\.kind) == [.changed])
            #expect(page.changes.map(\.positions) == [5..<6])
            #expect(page.cursor == page.changes.last?.seq)
        }
    }

    @Test func aLongPollSeesAWriteByAnotherStoreOnTheSameDatabase() async throws {
        try await withSampleApp(.live) { client, store, dataset, directory in
            // Another SQLiteStore on the same file has its own notifier, as another process would.
            let other = try SQLiteStore(directory: directory)
            let cursor = try await store.changeCursor(datasetID: dataset.id)
            let file = try await store.items(datasetID: dataset.id, range: 2..<3)[0].file
            async let reply = client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/changes?since=\(cursor)&wait=60", method: .get
            ) { try Self.decode(ChangePage.self, $0) }
            try await Task.sleep(for: .milliseconds(300))
            _ = try await other.addInstance(Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil))
            let page = try await reply
            #expect(page.changes.map(\.positions) == [2..<3])
        }
    }

    @Test func aLongPollWithNothingToSayEndsEmptyWithTheSameCursor() async throws {
        try await withSampleApp(.live) { client, store, dataset, _ in
            let cursor = try await store.changeCursor(datasetID: dataset.id)
            let page = try await client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/changes?since=\(cursor)&wait=0.3", method: .get
            ) {
                #expect($0.status == .ok)
                return try Self.decode(ChangePage.self, $0)
            }
            #expect(page == ChangePage(datasetID: dataset.id, cursor: cursor, changes: []))
        }
    }

    @Test(arguments: [
        "since=-1", "since=abc", "since=1.5", "limit=0", "limit=10001", "limit=x", "wait=-1", "wait=soon", "wait=nan",
        "wait=inf", "wait=60.5", "wait=3600",  // the document bounds wait to 60 seconds
    ])
    func badParametersAre400(query: String) async throws {
        try await withSampleApp { client, _, dataset, _ in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/changes?\(query)", method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try Self.decode(ErrorResponse.self, response).error
                #expect(error.code == "bad_parameter")
                #expect(error.detail == .object(["parameter": .string(String(query.prefix { $0 != "=" }))]))
            }
        }
    }

    @Test func anUnknownDatasetIs404() async throws {
        try await withSampleApp { client, _, _, _ in
            try await client.execute(uri: "/api/v1/datasets/999/changes?wait=5", method: .get) { response in
                #expect(response.status == .notFound)
                let code = try Self.decode(ErrorResponse.self, response).error.code
                #expect(code == "not_found")
            }
        }
    }

    @Test func servedItemsCarryTheRevisionOfTheirLastChange() async throws {
        try await withSampleApp { client, store, dataset, _ in
            let cursor = try await store.changeCursor(datasetID: dataset.id)
            let file = try await store.items(datasetID: dataset.id, range: 3..<4)[0].file
            _ = try await store.addInstance(Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil))
            let page = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/changes?since=\(cursor)", method: .get) {
                try Self.decode(ChangePage.self, $0)
            }
            let seq = try #require(page.changes.first?.seq)
            let item = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items/3", method: .get) {
                try WireDecoder.item(from: Array($0.body.readableBytesView))
            }
            #expect(item.file.revision == seq)
            let neighbour = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items/4", method: .get) {
                try WireDecoder.item(from: Array($0.body.readableBytesView))
            }
            #expect(neighbour.file.revision != seq && neighbour.file.revision > 0)
            let record = try await client.execute(uri: "/api/v1/files/\(file.id)", method: .get) {
                try Self.decode(File.self, $0)
            }
            #expect(record.revision == seq)
        }
    }
}
