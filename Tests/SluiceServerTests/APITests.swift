import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// In-process router tests of the v1 API over a real SQLite store holding the sample.
@Suite struct APITests {
    func withSampleApp(
        engine: StoreEngine = .sqlite, _ body: @escaping @Sendable (any TestClientProtocol, any Store, Dataset) async throws -> Void)
        async throws
    {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let (router, _) = SluiceAPI.buildRouter(store: store, configuration: ServerConfiguration(maxPageSize: 5))
            try await Application(router: router).test(.router) { client in
                try await body(client, store, dataset)
            }
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
    }

    static func errorCode(_ response: TestResponse) throws -> String {
        try decode(ErrorResponse.self, response).error.code
    }

    @Test(arguments: StoreEngine.available) func listsProjectsDatasetsAndLabels(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, _, dataset in
            let projects = try await client.execute(uri: "/api/v1/projects", method: .get) { try Self.decode([Project].self, $0) }
            #expect(projects.map(\.id) == ["coco-dataset"])
            let datasets = try await client.execute(uri: "/api/v1/projects/coco-dataset/datasets?name=Default", method: .get) {
                try Self.decode([Dataset].self, $0)
            }
            #expect(datasets == [dataset])
            let none = try await client.execute(uri: "/api/v1/projects/coco-dataset/datasets?name=Nope", method: .get) {
                try Self.decode([Dataset].self, $0)
            }
            #expect(none.isEmpty)
            let labels = try await client.execute(uri: "/api/v1/projects/coco-dataset/labels", method: .get) {
                try Self.decode([Label].self, $0)
            }
            #expect(labels.map(\.name) == ["person"])
            #expect(labels[0].keypointNames?.count == 17)
            let groups = try await client.execute(uri: "/api/v1/projects/coco-dataset/attribute-groups", method: .get) {
                try Self.decode([AttributeGroup].self, $0)
            }
            #expect(groups.isEmpty)
            try await client.execute(uri: "/api/v1/projects/missing", method: .get) { response in
                #expect(response.status == .notFound)
                let code = try Self.errorCode(response)
                #expect(code == "not_found")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func countAndItemByPosition(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, store, dataset in
            let count = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/count", method: .get) {
                try Self.decode(CountResponse.self, $0)
            }
            #expect(count.count == 9)
            let item = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items/7", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
                return try Self.decode(Item.self, response)
            }
            let expected = try await store.items(datasetID: dataset.id, range: 7..<8)[0]
            #expect(item == expected, "the hand-written wire JSON decodes to the stored item")
        }
    }

    @Test(arguments: StoreEngine.available) func positionPastEndIs404(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, _, dataset in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items/9", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try Self.decode(ErrorResponse.self, response)
                #expect(body.error.code == "position_out_of_range")
                #expect(body.error.detail == .object(["count": 9]))
            }
        }
    }

    @Test(arguments: [
        "/items/-1", "/items/abc", "/items?start=-1", "/items?end=-1", "/items?start=x", "/items?end=1.5",
        "/items?start=99999999999999999999",
    ])
    func badParametersAre400(suffix: String) async throws {
        try await withSampleApp { client, _, dataset in
            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)\(suffix)", method: .get) { response in
                #expect(response.status == .badRequest)
                let code = try Self.errorCode(response)
                #expect(code == "bad_parameter")
            }
        }
        try await withSampleApp { client, _, _ in
            try await client.execute(uri: "/api/v1/datasets/abc/count", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test(arguments: StoreEngine.available) func pagesAreClippedToTheDatasetAndThePageLimit(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, _, dataset in
            for query in ["start=9223372036854775806", "start=9223372036854775806&end=0", "start=4&end=2"] {
                // A start near Int.max once trapped the server computing the page's end.
                let page = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items?\(query)", method: .get) {
                    #expect($0.status == .ok, "\(query)")
                    return try Self.decode(ItemPage.self, $0)
                }
                #expect(page.items.isEmpty && page.start == page.end, "\(query)")
            }
            let page = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items?start=1&end=100", method: .get) {
                try Self.decode(ItemPage.self, $0)
            }
            #expect(page.start == 1 && page.end == 6 && page.count == 9, "page limit 5")
            #expect(page.items.map(\.position) == [1, 2, 3, 4, 5])
            let tail = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items?start=6&end=100", method: .get) {
                try Self.decode(ItemPage.self, $0)
            }
            #expect(tail.items.map(\.position) == [6, 7, 8] && tail.end == 9)
            let past = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items?start=20&end=30", method: .get) {
                try Self.decode(ItemPage.self, $0)
            }
            #expect(past.items.isEmpty && past.end == 20)
        }
    }

    @Test(arguments: StoreEngine.available) func mediaHasLengthETagAndRanges(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, store, dataset in
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            let bytes = try Data(contentsOf: URL(fileURLWithPath: store.media.path(for: file.media.sha256!)))
            let uri = "/api/v1/files/\(file.id)/media"
            let etag = try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == String(bytes.count))
                #expect(response.headers[.contentType] == "image/jpeg")
                #expect(Data(buffer: response.body) == bytes)
                return try #require(response.headers[.eTag])
            }
            #expect(etag == "\"\(file.media.sha256!)\"")
            try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=10-19"]) { response in
                #expect(response.status == .partialContent)
                #expect(response.headers[.contentRange] == "bytes 10-19/\(bytes.count)")
                #expect(Data(buffer: response.body) == bytes[10..<20])
            }
            try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=-5"]) { response in
                #expect(Data(buffer: response.body) == bytes.suffix(5))
            }
            try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=\(bytes.count)-"]) { response in
                #expect(response.status == .rangeNotSatisfiable)
                #expect(response.headers[.contentRange] == "bytes */\(bytes.count)")
            }
            try await client.execute(uri: uri, method: .get, headers: [.range: "lines=0-1"]) { response in
                #expect(response.status == .ok, "a range this server does not read gets the whole body")
                #expect(Data(buffer: response.body) == bytes)
            }
            try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=0-1", .ifRange: "\"other\""]) { response in
                #expect(response.status == .ok, "a stale If-Range gets the whole body")
            }
            try await client.execute(uri: uri, method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == String(bytes.count))
            }
        }
    }

    @Test(arguments: StoreEngine.available) func createsProjectsAndDatasets(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, store, _ in
            let body = ByteBuffer(string: #"{"id": "new-project", "name": "New", "public": false}"#)
            try await client.execute(uri: "/api/v1/projects", method: .post, body: body) { response in
                #expect(response.status == .unauthorized, "only a server admin key creates projects")
            }
            let projectKey = NewAPIKey.generate(projectID: "coco-dataset", role: .admin)
            try await store.insertAPIKey(projectKey.stored)
            try await client.execute(
                uri: "/api/v1/projects", method: .post, headers: [.authorization: "Bearer \(projectKey.token)"], body: body
            ) { #expect($0.status == .forbidden, "a project's admin key does not create other projects") }
            #expect(try await store.project(id: "new-project") == nil)
            let serverAdmin = NewAPIKey.generate(projectID: nil, role: .admin)
            try await store.insertAPIKey(serverAdmin.stored)
            let admin: HTTPFields = [.authorization: "Bearer \(serverAdmin.token)"]
            let project = try await client.execute(uri: "/api/v1/projects", method: .post, headers: admin, body: body) { response in
                #expect(response.status == .created)
                return try Self.decode(Project.self, response)
            }
            #expect(project.id == "new-project" && !project.isPublic)
            for id in ["bad id!", "þ", "", String(repeating: "a", count: 101)] {
                let body = try JSONEncoder().encode(["id": id])
                try await client.execute(uri: "/api/v1/projects", method: .post, headers: admin, body: ByteBuffer(data: body)) {
                    #expect($0.status == .badRequest, "\(id): an id is 1 to 100 ASCII letters, digits, - and _")
                }
            }
            try await client.execute(
                uri: "/api/v1/projects", method: .post, headers: admin, body: ByteBuffer(string: #"{"name": 3}"#)
            ) {
                #expect($0.status == .badRequest)
                let code = try Self.errorCode($0)
                #expect(code == "bad_body")
                let message = try Self.decode(ErrorResponse.self, $0).error.message
                #expect(message.contains("id"), "the message names the missing field: \(message)")
            }
            try await client.execute(
                uri: "/api/v1/projects/new-project/datasets", method: .post, body: ByteBuffer(string: #"{"name": "Train"}"#)
            ) { #expect($0.status == .unauthorized, "writing needs a key") }
            let editor = NewAPIKey.generate(projectID: "new-project", role: .editor)
            try await store.insertAPIKey(editor.stored)
            let dataset = try await client.execute(
                uri: "/api/v1/projects/new-project/datasets", method: .post,
                headers: [.authorization: "Bearer \(editor.token)"], body: ByteBuffer(string: #"{"name": "Train"}"#)
            ) { try Self.decode(Dataset.self, $0) }
            #expect(dataset.name == "Train" && dataset.count == 0)
        }
    }

    @Test(arguments: StoreEngine.available) func unknownRoutesAnswerWithTheJSONErrorShape(engine: StoreEngine) async throws {
        try await withSampleApp(engine: engine) { client, _, _ in
            try await client.execute(uri: "/api/v1/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                let code = try Self.errorCode(response)
                #expect(code == "not_found")
            }
        }
    }
}

@Suite struct FormQueryTests {
    @Test(arguments: [
        ("query=labels.person+%3E+0", "query", Optional("labels.person > 0")),
        ("query=a%2Bb", "query", "a+b"), ("x=1&x=2", "x", "1"), ("flag", "flag", ""), ("a=%ZZ", "a", "%ZZ"),
        ("a=%E2%9C%93", "a", "✓"), ("a=1", "b", nil),
    ])
    func readsFormEncoding(raw: String, name: String, expected: String?) {
        #expect(FormQuery(raw).get(name) == expected)
    }
}

@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-0", 10, ByteRange.satisfiable(0...0)), ("bytes=2-", 10, .satisfiable(2...9)),
        ("bytes=-3", 10, .satisfiable(7...9)), ("bytes=-30", 10, .satisfiable(0...9)),
        ("bytes=5-100", 10, .satisfiable(5...9)), ("bytes=5-99999999999999999999999", 10, .satisfiable(5...9)),
        ("bytes=10-", 10, .unsatisfiable), ("bytes=99999999999999999999999-", 10, .unsatisfiable),
        ("bytes=-0", 10, .unsatisfiable), ("bytes=0-", 0, .unsatisfiable),
        // Not a single bytes range this server reads: RFC 9110 lets it send the whole content.
        ("bytes=4-2", 10, .ignored), ("bytes=0-1,3-4", 10, .ignored), ("items=0-1", 10, .ignored),
        ("", 10, .ignored), ("bytes=", 10, .ignored), ("bytes=-", 10, .ignored), ("bytes=a-b", 10, .ignored),
        ("bytes=+1-2", 10, .ignored), ("bytes=١-٢", 10, .ignored),
    ])
    func parses(header: String, size: Int, expected: ByteRange) {
        #expect(ByteRange.parse(header, size: size) == expected)
    }
}
