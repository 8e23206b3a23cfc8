import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// What a stranger meets (issue 18, "Security"): failed keys are limited per address, every
/// limit answers with its own status and names itself, media never runs as a page.
@Suite struct SecurityTests {
    func withLiveRouter(
        _ configuration: ServerConfiguration,
        _ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore, Dataset, String) async throws -> Void
    ) async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let token = try await store.editorToken()
            let (router, _) = SluiceAPI.buildRouter(store: store, configuration: configuration)
            try await Application(router: router).test(.live) { client in try await body(client, store, dataset, token) }
        }
    }

    @Test func anAddressThatKeepsPresentingBadKeysIsRefusedForTheWindow() async throws {
        var configuration = ServerConfiguration()
        configuration.failedKeyLimit = 3
        try await withLiveRouter(configuration) { client, _, _, token in
            let clientID = token.split(separator: ":")[0]
            let bad: HTTPFields = [.authorization: "Bearer \(clientID):not-the-secret"]
            for _ in 0..<3 {
                try await client.execute(uri: "/api/v1/projects/coco-dataset", method: .get, headers: bad) {
                    #expect($0.status == .unauthorized)
                }
            }
            try await client.execute(uri: "/api/v1/projects/coco-dataset", method: .get, headers: bad) { response in
                #expect(response.status == .tooManyRequests)
                let retry = try #require(response.headers[.retryAfter].flatMap { Int($0) })
                #expect((1...60).contains(retry))
                #expect(String(buffer: response.body).contains("too_many_failed_keys"))
            }
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset", method: .get, headers: [.authorization: "Bearer \(token)"]
            ) { #expect($0.status == .tooManyRequests, "a right key too, while the address is blocked") }
            try await client.execute(uri: "/api/v1/projects/coco-dataset", method: .get) {
                #expect($0.status == .ok, "reads without a key are not keyed attempts")
            }
        }
    }

    @Test func validKeysAreNeverCountedAsFailures() async throws {
        var configuration = ServerConfiguration()
        configuration.failedKeyLimit = 2
        try await withLiveRouter(configuration) { client, _, _, token in
            for _ in 0..<10 {
                try await client.execute(
                    uri: "/api/v1/projects/coco-dataset", method: .get, headers: [.authorization: "Bearer \(token)"]
                ) { #expect($0.status == .ok) }
            }
        }
    }

    @Test func responsesAreNotSniffedAndMediaRunsNothing() async throws {
        try await withLiveRouter(ServerConfiguration()) { client, store, dataset, _ in
            try await client.execute(uri: "/api/v1/projects", method: .get) { response in
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.contentSecurityPolicy] == nil)
            }
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            try await client.execute(uri: "/api/v1/files/\(file.id)/media", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/jpeg")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox")
            }
        }
    }

    @Test func mediaOfATypeABrowserWouldRunIsServedAsBytes() {
        #expect(MediaContentType.served("image/svg+xml") == "application/octet-stream")
        #expect(MediaContentType.served("text/html") == "application/octet-stream")
        #expect(MediaContentType.served(nil) == "application/octet-stream")
        #expect(MediaContentType.served("image/png") == "image/png")
        #expect(MediaContentType.served("text/plain; charset=utf-8") == "text/plain; charset=utf-8")
    }

    @Test func aQueryOverTheLimitIsRefusedNamingIt() async throws {
        var configuration = ServerConfiguration()
        configuration.maxQueryBytes = 64
        try await withLiveRouter(configuration) { client, _, dataset, _ in
            let long = (0..<20).map { _ in "labels.person > 0" }.joined(separator: " and ")
            try await client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/slices", method: .post,
                body: ByteBuffer(string: #"{"query": "\#(long)"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                let text = String(buffer: response.body)
                #expect(text.contains(#""parameter":"query""#) || text.contains("query"), "\(text)")
                #expect(text.contains("at most 64 bytes"))
            }
            try await client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/slices", method: .post,
                body: ByteBuffer(string: #"{"query": "labels.person > 0"}"#)
            ) { #expect($0.status == .created || $0.status == .ok) }
        }
    }

    @Test func aKnownPathWithAnUnknownMethodIs405WithAllow() async throws {
        try await withLiveRouter(ServerConfiguration()) { client, _, dataset, _ in
            try await client.execute(uri: "/api/v1/projects", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, POST")
                #expect(String(buffer: response.body).contains("method_not_allowed"))
            }
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/count", method: .init("TRACE")!) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
            }
            // files/copy is its own resource: DELETE belongs to files/{file}, which the router never picks here.
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/files/copy", method: .options) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
            }
            try await client.execute(uri: "/api/v1/no/such/path", method: .get) {
                #expect($0.status == .notFound, "an unknown path is still 404")
            }
        }
    }

    @Test func streamSlotsAreLimitedPerAddressAndComeBack() async throws {
        let slots = StreamSlots(limit: 2)
        var held: [StreamSlots.Slot] = [try slots.take(for: "10.0.0.1"), try slots.take(for: "10.0.0.1")]
        #expect(throws: APIError.self) { _ = try slots.take(for: "10.0.0.1") }
        _ = try slots.take(for: "10.0.0.2")  // another address has slots of its own (released at once)
        held.removeLast()
        #expect(slots.count(for: "10.0.0.1") == 1)
        held.append(try slots.take(for: "10.0.0.1"))
        held.removeAll()
        #expect(slots.count(for: "10.0.0.1") == 0 && slots.count(for: "10.0.0.2") == 0)
    }

    @Test func finishedStreamsGiveTheirSlotBack() async throws {
        var configuration = ServerConfiguration()
        configuration.maxStreamsPerClient = 1
        try await withLiveRouter(configuration) { client, _, dataset, _ in
            for _ in 0..<4 {
                try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/stream", method: .get) { response in
                    #expect(response.status == .ok, "one stream at a time, each after the last has ended")
                    #expect(response.body.readableBytes > 0)
                }
            }
        }
    }
}
