import Foundation
import Hummingbird
import HummingbirdTesting
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
            for method in methods.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                out.insert("\(method.uppercased()) \(path)")
            }
        }
        return out
    }

    @Test func isOpenAPI31() throws {
        #expect(try Self.document()["openapi"] as? String == "3.1.0")
    }

    @Test func describesExactlyTheRegisteredRoutes() async throws {
        try await withTemporaryStore { store, _ in
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

    @Test func everyDescribedOperationAnswersOnALiveServer() async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let fileID = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file.id
            // An editor key, so that writes answer too (DESIGN "HTTP API": every write needs a key).
            let editor = NewAPIKey.generate(projectID: "coco-dataset", role: .editor)
            try await store.insertAPIKey(editor.stored)
            let (router, _) = SluiceAPI.buildRouter(store: store)
            let operations = try Self.operations()
            let token = SliceToken(datasetID: dataset.id, query: "labels.any >= 0").encoded
            try await Application(router: router).test(.live) { client in
                for operation in operations {
                    let parts = operation.split(separator: " ")
                    let path = String(parts[1])
                        .replacingOccurrences(of: "{project}", with: "coco-dataset")
                        .replacingOccurrences(of: "{position}", with: "0")
                        .replacingOccurrences(of: "/datasets/{id}", with: "/datasets/\(dataset.id)")
                        .replacingOccurrences(of: "/files/{id}", with: "/files/\(fileID)")
                        .replacingOccurrences(of: "{token}", with: token)
                    let method: HTTPRequest.Method = parts[0] == "GET" ? .get : .post
                    let body: ByteBuffer? = method == .post ? ByteBuffer(string: #"{"id": "x", "name": "x", "query": "labels.any >= 0"}"#) : nil
                    let headers: HTTPFields = [.authorization: "Bearer \(editor.token)"]
                    try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
                        #expect((200..<300).contains(response.status.code), "\(operation) → \(response.status)")
                    }
                }
            }
        }
    }
}
