import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

@Suite struct OpenAPITests {
    static func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8))
        return try #require(object as? [String: Any])
    }

    static func operations() throws -> Set<String> {
        let paths = try #require(try document()["paths"] as? [String: [String: Any]])
        var out: Set<String> = []
        for (path, methods) in paths {
            for method in methods.keys where ["get", "head", "post", "put", "patch", "delete"].contains(method) {
                out.insert("\(method.uppercased()) \(path)")
            }
        }
        return out
    }

    @Test func isOpenAPI31() throws {
        #expect(try Self.document()["openapi"] as? String == "3.1.0")
    }

    @Test(arguments: StoreEngine.available) func describesExactlyTheRegisteredRoutes(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let (_, routes) = SluiceAPI.buildRouter(store: store)
            let described = try Self.operations()
            #expect(Set(routes.map(\.description)) == described)
        }
    }

    @Test func everyRefResolves() throws {
        let text = OpenAPIDocument.json
        let document = try Self.document()
        let components = try #require(document["components"] as? [String: [String: Any]])
        let pattern = try NSRegularExpression(pattern: ##""\$ref": "#/components/(\w+)/(\w+)""##)
        let matches = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text))
        #expect(!matches.isEmpty)
        for match in matches {
            let kind = String(text[Range(match.range(at: 1), in: text)!])
            let name = String(text[Range(match.range(at: 2), in: text)!])
            #expect(components[kind]?[name] != nil, "#/components/\(kind)/\(name)")
        }
    }

    /// Through the router rather than a socket: HummingbirdTesting's live client gives each
    /// request a fixed 20 s, which a loaded CI machine once exceeded; the routes are the same.
    @Test(arguments: StoreEngine.available) func everyDescribedOperationAnswers(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let fileID = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file.id
            // A server admin key, so that every write and every management route answers too.
            let admin = NewAPIKey.generate(projectID: nil, role: .admin)
            try await store.insertAPIKey(admin.stored)
            // No instance carries it, so the label's DELETE example succeeds.
            let labelID = try await store.createLabel(projectID: "coco-dataset", NewLabel(name: "spare")).id
            let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("coco/crowdpose/106848.jpg"))))
            let sha = SHA256.hash(data: photo).map { String(format: "%02x", $0) }.joined()
            let coco = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("coco/datumaro-labels/annotations/labels_val.json"))))
            let cocoSHA = SHA256.hash(data: coco).map { String(format: "%02x", $0) }.joined()
            _ = try store.media.put(fileAt: Fixtures.path("coco/datumaro-labels/annotations/labels_val.json"))
            #expect(store.media.contains(cocoSHA))
            // A folder for the folder import example: one Doccano line and the listing naming it.
            func put(_ text: String) throws -> StoredMedia {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-openapi-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: path) }
                try Data(text.utf8).write(to: path)
                return try store.media.put(fileAt: path.path)
            }
            let texts = try put(#"{"text": "Ada", "label": [[0, 3, "PER"]]}"# + "\n")
            let tree = try put("\(texts.sha256)\tall.jsonl\n")
            _ = try await store.createAttributeGroup(projectID: "coco-dataset", name: "mood", kind: .text, options: [])
            // A file of another dataset, for the copy example.
            let stored = try store.media.put(fileAt: Fixtures.path("coco/crowdpose/106848.jpg"))
            let other = try await store.ensureDataset(projectID: "coco-dataset", name: "other")
            let otherFile = try await store.appendFiles(
                datasetID: other.id, [FileDraft(name: "o.jpg", sha256: stored.sha256)], createLabels: false)[0].file.id
            let (router, _) = SluiceAPI.buildRouter(store: store)
            let token = SliceToken(datasetID: dataset.id, query: "labels.any >= 0").encoded
            let instance = #"{"label": "person", "kind": "box", "bbox": [1, 2, 3, 4]}"#
            let boundary = "b0undary"
            let form =
                Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n".utf8) + photo
                + Array("\r\n--\(boundary)--\r\n".utf8)
            // An example request per write; reads need none. Uploads come first (appends name the
            // media), deletes last.
            let examples: [String: (body: [UInt8], contentType: String)] = [
                "POST /api/v1/projects": (Array(#"{"id": "x"}"#.utf8), "application/json"),
                "PATCH /api/v1/projects/{project}": (Array(#"{"public": true}"#.utf8), "application/json"),
                "POST /api/v1/projects/{project}/datasets": (Array(#"{"name": "x"}"#.utf8), "application/json"),
                "POST /api/v1/projects/{project}/labels": (Array(#"{"name": "x"}"#.utf8), "application/json"),
                "PATCH /api/v1/projects/{project}/labels/{label}": (Array(##"{"color": "#123456"}"##.utf8), "application/json"),
                "POST /api/v1/projects/{project}/attribute-groups": (
                    Array(#"{"name": "weather", "kind": "select", "options": ["sun"]}"#.utf8), "application/json"
                ),
                "PATCH /api/v1/projects/{project}/attribute-groups/{group}": (
                    Array(#"{"options": ["sun", "rain"]}"#.utf8), "application/json"
                ),
                "POST /api/v1/projects/{project}/keys": (Array(#"{"role": "viewer"}"#.utf8), "application/json"),
                "PUT /api/v1/projects/{project}/media/{sha256}": (photo, "application/octet-stream"),
                "POST /api/v1/projects/{project}/media": (form, "multipart/form-data; boundary=\(boundary)"),
                "POST /api/v1/datasets/{id}/files": (
                    Array(#"{"files": [{"name": "n.jpg", "sha256": "\#(sha)", "instances": [\#(instance)]}]}"#.utf8),
                    "application/json"
                ),
                "POST /api/v1/projects/{project}/imports/coco": (
                    Array(#"{"dataset": "imported", "annotations_sha256": "\#(cocoSHA)"}"#.utf8), "application/json"
                ),
                "POST /api/v1/projects/{project}/imports/{format}": (
                    Array(#"{"dataset": "texts", "tree_sha256": "\#(tree.sha256)"}"#.utf8), "application/json"
                ),
                "POST /api/v1/datasets/{id}/files/copy": (Array(#"{"file_ids": [\#(otherFile)]}"#.utf8), "application/json"),
                "POST /api/v1/datasets/{id}/slices": (Array(#"{"query": "labels.any >= 0"}"#.utf8), "application/json"),
                "POST /api/v1/datasets/{id}/snapshots": (Array(#"{"name": "x"}"#.utf8), "application/json"),
                "POST /api/v1/datasets/{id}/tags": (Array(#"{"tags": ["reviewed", "a/b c"]}"#.utf8), "application/json"),
                "POST /api/v1/files/{id}/instances": (Array(#"{"instances": [\#(instance)]}"#.utf8), "application/json"),
                "PUT /api/v1/files/{id}/instances": (Array(#"{"instances": [\#(instance), \#(instance)]}"#.utf8), "application/json"),
                "PATCH /api/v1/files/{id}/instances/{instance}": (Array(instance.utf8), "application/json"),
            ]
            let operations = try Self.operations().sorted { a, b in
                func rank(_ operation: String) -> Int {
                    operation.contains("/media") && !operation.hasPrefix("GET") ? 0 : operation.hasPrefix("DELETE") ? 2 : 1
                }
                return (rank(a), a) < (rank(b), b)
            }
            #expect(Set(examples.keys).isSubset(of: Set(operations)))
            try await Application(router: router).test(.router) { client in
                for operation in operations {
                    let parts = operation.split(separator: " ")
                    // Edits give instances new ids: look up a live one for each request.
                    let instanceID = try await store.annotatedFile(id: fileID)?.instances.first?.id ?? 0
                    let templated = String(parts[1])
                        .replacingOccurrences(of: "{project}", with: "coco-dataset")
                        .replacingOccurrences(of: "{position}", with: "0")
                        .replacingOccurrences(of: "/datasets/{id}", with: "/datasets/\(dataset.id)")
                        .replacingOccurrences(of: "/files/{id}", with: "/files/\(fileID)")
                        .replacingOccurrences(of: "{token}", with: token)
                        .replacingOccurrences(of: "{sha256}", with: sha)
                        .replacingOccurrences(of: "{label}", with: String(labelID))
                        .replacingOccurrences(of: "{instance}", with: String(instanceID))
                        .replacingOccurrences(of: "{file}", with: String(fileID))
                        .replacingOccurrences(
                            of: "{group}", with: String(try await store.attributeGroups(projectID: "coco-dataset").first?.id ?? 0))
                    // The tag the example adds, percent-encoded as a path segment.
                    let path = templated.replacingOccurrences(of: "{tag}", with: "a%2Fb%20c")
                        .replacingOccurrences(of: "{format}", with: "doccano")
                    let method = HTTPRequest.Method(String(parts[0]))!
                    let example = examples[operation]
                    #expect(example != nil || method == .get || method == .head || method == .delete, "\(operation) needs an example")
                    var headers: HTTPFields = [.authorization: "Bearer \(admin.token)"]
                    if let example { headers[.contentType] = example.contentType }
                    try await client.execute(
                        uri: path, method: method, headers: headers, body: example.map { ByteBuffer(bytes: $0.body) }
                    ) { response in
                        #expect((200..<300).contains(response.status.code), "\(operation) → \(response.status)")
                    }
                }
            }
        }
    }
}
