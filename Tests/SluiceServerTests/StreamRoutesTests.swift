import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTensors
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// The stream endpoint over a real SQLite store: ranges of an epoch's order, as NDJSON and
/// as safetensors records.
@Suite struct StreamRoutesTests {
    func withGeneratedApp(
        files: Int = 300, _ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore, Dataset) async throws -> Void
    ) async throws {
        try await withTemporaryStore { store, directory in
            let dataset = try await store.importGenerated(files: files, instancesPerFile: 2, labels: 5, in: directory)
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                try await body(client, store, dataset)
            }
        }
    }

    static func lines(_ response: TestResponse) throws -> [Item] {
        try String(buffer: response.body).split(separator: "\n").map { try WireDecoder.item(from: Array($0.utf8)) }
    }

    static func query(_ order: StreamOrder) -> String {
        order.parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    @Test func aShuffledShardArrivesInTheOrderTheClientComputes() async throws {
        try await withGeneratedApp { client, store, dataset in
            let order = try StreamOrder(
                count: 300, shuffle: Shuffle(seed: 77, epoch: 1), shard: Shard(rank: 2, worldSize: 3))
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?start=10&end=90&\(Self.query(order))", method: .get) {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[.sluiceLength] == "100")
                #expect(response.headers[.sluiceEnd] == "90")
                #expect(response.headers[.contentType] == "application/x-ndjson")
                let items = try Self.lines(response)
                #expect(items.map(\.position) == order.positions(10..<90))
                // The items are the store's own, whole.
                let expected = try await store.items(datasetID: dataset.id, range: items[0].position..<(items[0].position + 1))
                #expect(items[0] == expected[0])
            }
        }
    }

    @Test func theWholeDatasetInOrderByDefaultAndClippedAtTheEnd() async throws {
        try await withGeneratedApp { client, _, dataset in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream", method: .get) { response in
                let items = try Self.lines(response)
                #expect(items.map(\.position) == Array(0..<300))
            }
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?start=290&end=5000", method: .get) { response in
                let items = try Self.lines(response)
                #expect(items.map(\.position) == Array(290..<300))
                #expect(response.headers[.sluiceEnd] == "300")
            }
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?start=400", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func elasticHistoryIsHonouredByTheServer() async throws {
        try await withGeneratedApp { client, _, dataset in
            let order = try StreamOrder(
                count: 300, shuffle: Shuffle(seed: 5), shard: Shard(rank: 0, worldSize: 2),
                history: [ConsumedRun(worldSize: 4, counts: [20, 21, 19, 20])])
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?\(Self.query(order))", method: .get) { response in
                let items = try Self.lines(response)
                #expect(items.map(\.position) == order.positions(0..<order.length))
            }
        }
    }

    /// 400 for a parameter not written as its schema says; 422 for one well written that
    /// does not fit the others or the dataset (the split Schemathesis holds the API to).
    @Test(arguments: [
        ("rank=3&world_size=2", "rank", HTTPResponse.Status.unprocessableContent),
        ("count=301", "count", .unprocessableContent),
        ("count=9223372036854775806", "count", .unprocessableContent),
        ("epoch=1", "seed", .unprocessableContent),
        ("consumed=2:1", "consumed", .unprocessableContent),
        ("seed=x", "seed", .badRequest),
        ("start=-1", "start", .badRequest),
        ("format=xml", "format", .badRequest),
        ("consumed=0:0", "consumed", .badRequest),
        ("media=false", "media", .unprocessableContent),
        ("format=frames&media=maybe", "media", .badRequest),
        ("format=records&tensors=true", "tensors", .unprocessableContent),
    ])
    func badParametersAreRefusedNamingTheParameter(query: String, parameter: String, status: HTTPResponse.Status)
        async throws
    {
        try await withGeneratedApp(files: 20) { client, _, dataset in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?\(query)", method: .get) { response in
                #expect(response.status == status)
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body)).error
                #expect(error.code == "bad_parameter")
                #expect(error.message.hasPrefix(parameter), "\(error.message)")
            }
        }
    }

    /// Values near `Int.max` once trapped the server (Schemathesis found them): each is
    /// answered, and the server lives on to answer the next.
    @Test func extremeButValidOrdersAreAnswered() async throws {
        try await withGeneratedApp(files: 20) { client, _, dataset in
            for query in [
                "world_size=9223372036854775807", "rank=9223372036854775806&world_size=9223372036854775807",
                "seed=1&block_size=9223372036854775807", "start=9223372036854775807", "world_size=3&tail=pad",
                "seed=18446744073709551615&epoch=9223372036854775807",
            ] {
                try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?\(query)", method: .get) { response in
                    #expect(response.status == .ok, "\(query)")
                }
            }
        }
    }

    @Test func anEndBeforeStartAsksForNothing() async throws {
        try await withGeneratedApp(files: 20) { client, _, dataset in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?start=5&end=2", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.sluiceStart] == "5" && response.headers[.sluiceEnd] == "5", "20 items: 5 is inside")
            }
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items?start=5&end=2", method: .get) { response in
                #expect(response.status == .ok)
                let page = try WireDecoder.itemPage(from: Array(buffer: response.body))
                #expect(page.items.isEmpty && page.start == 5 && page.end == 5)
            }
        }
    }

    @Test(arguments: StoreEngine.available) func recordsCarryTheItemAndTheMediaBytes(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream?format=records", method: .get) { response in
                    #expect(response.headers[.contentType] == "application/vnd.sluice.records")
                    var body = response.body
                    var positions: [Int] = []
                    while body.readableBytes > 0 {
                        let prefix = body.readInteger(endianness: .little, as: UInt64.self)
                        let length = try #require(prefix)
                        let bytes = body.readBytes(length: Int(length))
                        let record = try TensorRecord(decoding: try #require(bytes))
                        let item = try WireDecoder.item(from: try #require(record.tensors["item"]).bytes)
                        #expect(record.metadata["file_id"] == String(item.file.id))
                        positions.append(item.position)
                        let image = try #require(record.tensors["image"])
                        let sha = try #require(item.file.media.sha256)
                        let onDisk = try Data(contentsOf: URL(fileURLWithPath: store.media.path(for: sha)))
                        #expect(image.bytes == Array(onDisk))
                        #expect(image.shape == [onDisk.count])
                        #expect(image.bytes.prefix(2) == [0xFF, 0xD8], "a JPEG")
                    }
                    #expect(positions == Array(0..<9))
                }
            }
        }
    }

    @Test func aSliceEpochReadsTheVersionItStartedAtAndRefusesAnUnknownOne() async throws {
        try await withGeneratedApp { client, store, dataset in
            let created = try await client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/slices", method: .post,
                body: ByteBuffer(string: #"{"query": "labels.label0 > 0"}"#)
            ) { try JSONDecoder().decode(SliceReply.self, from: Data(buffer: $0.body)) }
            let all = try await store.items(datasetID: dataset.id, range: 0..<300)
            let expected = all.filter { $0.instances.contains { $0.label == "label0" } }.map(\.file.id)
            #expect(created.count == expected.count)
            let uri = "/api/v1/slices/\(created.id)/stream?seed=3&version=\(created.version)"
            let order = try StreamOrder(count: created.count, shuffle: Shuffle(seed: 3))
            try await client.execute(uri: uri, method: .get) { response in
                let items = try Self.lines(response)
                #expect(items.map(\.position) == order.positions(0..<order.length))
                #expect(Set(items.map(\.file.id)) == Set(expected))
            }
            let before = try await client.execute(uri: uri, method: .get) { String(buffer: $0.body) }
            // A write moves the dataset on; the running epoch still reads its version: the same bytes.
            let file = try #require(all.first { !$0.instances.contains { $0.label == "label0" } })
            let label0 = try await store.labels(projectID: "generated").first { $0.name == "label0" }!
            _ = try await store.addInstance(Instance(fileID: file.file.id, labelID: label0.id, kind: .global, bbox: nil))
            let inSlice = try #require(all.first { $0.instances.contains { $0.label == "label0" } })
            try await store.deleteInstance(id: inSlice.instances[0].id)
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == before)
            }
            // A server that never held the slice (a restart, another replica) computes that version's.
            let (fresh, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: fresh).test(.router) { other in
                try await other.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == before)
                }
            }
            try await client.execute(uri: "/api/v1/slices/\(created.id)/stream?version=\(created.version + 100)", method: .get) {
                response in
                #expect(response.status == .conflict)
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body)).error
                #expect(error.code == "version_changed")
            }
        }
    }

    struct SliceReply: Decodable {
        var id: String
        var version: Int64
        var count: Int
    }
}
