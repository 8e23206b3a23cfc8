import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// API keys and private projects, against a live server on 127.0.0.1 over a real SQLite store.
@Suite struct AuthTests {
    /// The sample in `coco-dataset` (private unless `isPublic`), a project `other`, and a key
    /// of each role for `coco-dataset` plus a viewer key of `other`.
    struct Setup: Sendable {
        var store: any Store
        var dataset: Dataset
        var fileID: Int64
        var viewer: NewAPIKey
        var editor: NewAPIKey
        var admin: NewAPIKey
        var otherProjects: NewAPIKey
    }

    func withServer(
        engine: StoreEngine = .sqlite, 
        isPublic: Bool = false, _ body: @escaping @Sendable (any TestClientProtocol, Setup) async throws -> Void
    ) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            try await store.setProjectPublic(id: "coco-dataset", isPublic: isPublic)
            _ = try await store.ensureProject(Project(id: "other", name: "Other"))
            let keys = [
                NewAPIKey.generate(projectID: "coco-dataset", role: .viewer),
                NewAPIKey.generate(projectID: "coco-dataset", role: .editor),
                NewAPIKey.generate(projectID: "coco-dataset", role: .admin),
                NewAPIKey.generate(projectID: "other", role: .admin),
            ]
            for key in keys { try await store.insertAPIKey(key.stored) }
            let fileID = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file.id
            let setup = Setup(
                store: store, dataset: dataset, fileID: fileID, viewer: keys[0], editor: keys[1], admin: keys[2],
                otherProjects: keys[3])
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.live) { client in try await body(client, setup) }
        }
    }

    static func bearer(_ key: NewAPIKey) -> HTTPFields { [.authorization: "Bearer \(key.token)"] }

    static func basic(_ clientID: String, _ secret: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(clientID):\(secret)".utf8).base64EncodedString()]
    }

    static func errorCode(_ response: TestResponse) throws -> String {
        try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body)).error.code
    }

    /// Every read route of the project, Sluice's and Diffgram's, with real ids filled in.
    static func readRoutes(_ setup: Setup) -> [(HTTPRequest.Method, String, String?)] {
        let d = setup.dataset.id, f = setup.fileID
        let slice = SliceToken(datasetID: d, query: "labels.person > 0").encoded
        return [
            (.get, "/api/v1/projects/coco-dataset", nil),
            (.get, "/api/v1/projects/coco-dataset/datasets", nil),
            (.get, "/api/v1/projects/coco-dataset/labels", nil),
            (.get, "/api/v1/projects/coco-dataset/attribute-groups", nil),
            (.get, "/api/v1/datasets/\(d)", nil),
            (.get, "/api/v1/datasets/\(d)/count", nil),
            (.get, "/api/v1/datasets/\(d)/items/0", nil),
            (.get, "/api/v1/datasets/\(d)/items?start=0&end=2", nil),
            (.get, "/api/v1/datasets/\(d)/stream?start=0&end=2", nil),
            (.get, "/api/v1/datasets/\(d)/changes?since=0", nil),
            (.post, "/api/v1/datasets/\(d)/slices", #"{"query": "labels.person > 0"}"#),
            (.get, "/api/v1/slices/\(slice)", nil),
            (.get, "/api/v1/slices/\(slice)/count", nil),
            (.get, "/api/v1/slices/\(slice)/items/0", nil),
            (.get, "/api/v1/slices/\(slice)/stream?start=0&end=2", nil),
            (.get, "/api/v1/files/\(f)", nil),
            (.get, "/api/v1/files/\(f)/media", nil),
            (.get, "/api/project/coco-dataset/user/legacy/working_dir/view?name=Default", nil),
            (.post, "/api/v1/project/coco-dataset/directory/list", #"{"limit": 10}"#),
            (.post, "/api/project/coco-dataset/user/sdk/file/list", #"{"metadata": {"directory_id": \#(d), "file_view_mode": "ids_only"}}"#),
            (.post, "/api/project/coco-dataset/file/\(f)/annotation/list", #"{"directory_id": \#(d)}"#),
            (.post, "/api/v1/project/coco-dataset/file/exists", #"{"file_id_list": [\#(f)]}"#),
            (.get, "/api/v1/project/coco-dataset/labels/view/name_to_file_id", nil),
            (.get, "/api/v1/project/coco-dataset/labels-schema", nil),
            (.get, "/api/project/coco-dataset/labels", nil),
            (.post, "/api/v1/project/coco-dataset/attribute/template/list", "{}"),
            (.get, "/api/v1/datasets/\(d)/tags", nil),
            // The web page's reads (after the others: tests above pick routes by index).
            (.get, "/api/v1/files/\(f)/thumbnail?size=64", nil),
            (.get, "/api/v1/datasets/\(d)/labels", nil),
            (.get, "/api/v1/slices/\(slice)/labels", nil),
        ]
    }

    static func execute(
        _ client: any TestClientProtocol, _ route: (HTTPRequest.Method, String, String?), headers: HTTPFields = [:]
    ) async throws -> (HTTPResponse.Status, String?) {
        try await client.execute(
            uri: route.1, method: route.0, headers: headers, body: route.2.map { ByteBuffer(string: $0) }
        ) { response in
            (response.status, response.status.code >= 400 ? try errorCode(response) : nil)
        }
    }

    static func status(
        _ client: any TestClientProtocol, _ route: (HTTPRequest.Method, String, String?), headers: HTTPFields = [:]
    ) async throws -> HTTPResponse.Status {
        try await execute(client, route, headers: headers).0
    }

    @Test(arguments: StoreEngine.available) func privateProjectIs401WithoutAKeyOnEveryRoute(engine: StoreEngine) async throws {
        try await withServer(engine: engine) { client, setup in
            for route in Self.readRoutes(setup) {
                let (status, code) = try await Self.execute(client, route)
                #expect(status == .unauthorized, "\(route.0) \(route.1)")
                #expect(code == "unauthorized", "\(route.1) answers with the JSON error shape")
            }
            let listed = try await client.execute(uri: "/api/v1/projects", method: .get) { response in
                try JSONDecoder().decode([Project].self, from: Data(buffer: response.body)).map(\.id)
            }
            #expect(listed == ["other"], "a private project is not even listed without its key")
        }
    }

    @Test(arguments: StoreEngine.available) func viewerKeyReadsEveryRoute(engine: StoreEngine) async throws {
        try await withServer(engine: engine) { client, setup in
            for route in Self.readRoutes(setup) {
                let (status, _) = try await Self.execute(client, route, headers: Self.bearer(setup.viewer))
                #expect(status.code < 300, "\(route.0) \(route.1)")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func publicProjectReadsWithoutAKey(engine: StoreEngine) async throws {
        try await withServer(engine: engine, isPublic: true) { client, setup in
            for route in Self.readRoutes(setup) {
                let (status, _) = try await Self.execute(client, route)
                #expect(status.code < 300, "\(route.0) \(route.1)")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func wrongKeysAre401(engine: StoreEngine) async throws {
        try await withServer(engine: engine, isPublic: true) { client, setup in
            let route = Self.readRoutes(setup)[5]
            let wrong: [HTTPFields] = [
                [.authorization: "Bearer \(setup.viewer.stored.clientID):not-the-secret"],
                [.authorization: "Bearer sk-nobody:\(setup.viewer.secret)"],
                [.authorization: "Bearer no-colon"],
                [.authorization: "Token \(setup.viewer.token)"],
                Self.basic(setup.viewer.stored.clientID, "wrong"),
            ]
            for headers in wrong {
                let (status, code) = try await Self.execute(client, route, headers: headers)
                #expect(status == .unauthorized, "even on a public project, a bad key is refused: \(headers)")
                #expect(code == "invalid_key")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func basicAndBearerAreBothAccepted(engine: StoreEngine) async throws {
        try await withServer(engine: engine) { client, setup in
            let route = Self.readRoutes(setup)[5]
            let basic = Self.basic(setup.viewer.stored.clientID, setup.viewer.secret)
            let status1 = try await Self.status(client, route, headers: basic)
            #expect(status1 == .ok)
            let status2 = try await Self.status(client, route, headers: Self.bearer(setup.viewer))
            #expect(status2 == .ok)
        }
    }

    @Test(arguments: StoreEngine.available) func diffgramSDKWithoutKeysReadsAPublicProject(engine: StoreEngine) async throws {
        // requests sends Basic "None:None" for HTTPBasicAuth(None, None).
        try await withServer(engine: engine, isPublic: true) { client, setup in
            let route = Self.readRoutes(setup)[20]
            let status3 = try await Self.status(client, route, headers: Self.basic("None", "None"))
            #expect(status3 == .ok)
        }
        try await withServer(engine: engine) { client, setup in
            let route = Self.readRoutes(setup)[20]
            let status4 = try await Self.status(client, route, headers: Self.basic("None", "None"))
            #expect(status4 == .unauthorized)
        }
    }

    @Test(arguments: StoreEngine.available) func anotherProjectsKeyIs403(engine: StoreEngine) async throws {
        try await withServer(engine: engine) { client, setup in
            for route in Self.readRoutes(setup) {
                let (status, code) = try await Self.execute(client, route, headers: Self.bearer(setup.otherProjects))
                #expect(status == .forbidden, "\(route.0) \(route.1)")
                #expect(code == "forbidden")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func viewerWritingIs403AndEditorWritingWorks(engine: StoreEngine) async throws {
        try await withServer(engine: engine) { client, setup in
            let write: (HTTPRequest.Method, String, String?) = (.post, "/api/v1/projects/coco-dataset/datasets", #"{"name": "Train"}"#)
            let status5 = try await Self.status(client, write)
            #expect(status5 == .unauthorized)
            let (status, code) = try await Self.execute(client, write, headers: Self.bearer(setup.viewer))
            #expect(status == .forbidden && code == "forbidden")
            let status6 = try await Self.status(client, write, headers: Self.bearer(setup.otherProjects))
            #expect(status6 == .forbidden)
            let status7 = try await Self.status(client, write, headers: Self.bearer(setup.editor))
            #expect(status7 == .created)
            let status8 = try await Self.status(client, write, headers: Self.bearer(setup.admin))
            #expect(status8 == .created)
        }
    }

    @Test(arguments: StoreEngine.available) func writesToAPublicProjectNeedAKeyToo(engine: StoreEngine) async throws {
        try await withServer(engine: engine, isPublic: true) { client, setup in
            let write: (HTTPRequest.Method, String, String?) = (.post, "/api/v1/projects/coco-dataset/datasets", #"{"name": "Train"}"#)
            let status9 = try await Self.status(client, write)
            #expect(status9 == .unauthorized)
            let status10 = try await Self.status(client, write, headers: Self.bearer(setup.viewer))
            #expect(status10 == .forbidden)
            let status11 = try await Self.status(client, write, headers: Self.bearer(setup.editor))
            #expect(status11 == .created)
            let recreate: (HTTPRequest.Method, String, String?) = (.post, "/api/v1/projects", #"{"id": "coco-dataset"}"#)
            let status12 = try await Self.status(client, recreate)
            #expect(status12 == .unauthorized, "an existing project is written to")
        }
    }

    @Test(arguments: StoreEngine.available) func signedMediaURLsReadOnlyTheirFile(engine: StoreEngine) async throws {
        try await withServer(engine: engine) { client, setup in
            let route = Self.readRoutes(setup)[20]
            let url = try await client.execute(
                uri: route.1, method: route.0, headers: Self.bearer(setup.viewer), body: ByteBuffer(string: route.2!)
            ) { response in
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
                guard case .object(let root) = body, case .object(let file)? = root["file_serialized"],
                    case .object(let image)? = file["image"], let url = image["url_signed"]?.stringValue
                else { throw APIError(.internalServerError, code: "test", message: "no url_signed in \(body)") }
                return url
            }
            let start = try #require(url.range(of: "/api/v1/files/"))
            let pathAndQuery = String(url[start.lowerBound...])
            #expect(pathAndQuery.contains("signature="))
            try await client.execute(uri: pathAndQuery, method: .get) { #expect($0.status == .ok) }
            let otherFile = pathAndQuery.replacingOccurrences(of: "/files/\(setup.fileID)/", with: "/files/\(setup.fileID + 1)/")
            try await client.execute(uri: otherFile, method: .get) { #expect($0.status == .unauthorized) }
            let forged = pathAndQuery.replacingOccurrences(of: "signature=", with: "signature=0")
            try await client.execute(uri: forged, method: .get) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func secretsAreStoredHashedAndComparedWhole() async throws {
        let key = NewAPIKey.generate(projectID: "p", role: .viewer)
        #expect(key.stored.secretHash == APIKeySecret.hash(key.secret))
        #expect(!key.stored.secretHash.isEmpty && key.stored.secretHash != Array(key.secret.utf8))
        #expect(key.stored.matches(secret: key.secret))
        #expect(!key.stored.matches(secret: String(key.secret.dropLast())))
        #expect(!key.token.dropFirst(key.stored.clientID.count + 1).contains(":"))
    }
}
