import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceQuery
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `/datasets/{id}/tags` and the slices that test tags (issue 20).
@Suite struct DatasetTagRouteTests {
    struct Setup {
        var store: SQLiteStore
        var dataset: Dataset
        var viewer: NewAPIKey
        var editor: NewAPIKey
    }

    func withTagApp(_ body: @escaping @Sendable (any TestClientProtocol, Setup) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let viewer = NewAPIKey.generate(projectID: dataset.projectID, role: .viewer)
            let editor = NewAPIKey.generate(projectID: dataset.projectID, role: .editor)
            try await store.insertAPIKey(viewer.stored)
            try await store.insertAPIKey(editor.stored)
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                try await body(client, Setup(store: store, dataset: dataset, viewer: viewer, editor: editor))
            }
        }
    }

    static func bearer(_ key: NewAPIKey) -> HTTPFields { [.authorization: "Bearer \(key.token)"] }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
    }

    @Test func editorsWriteTagsAndViewersReadThem() async throws {
        try await withTagApp { client, setup in
            let path = "/api/v1/datasets/\(setup.dataset.id)/tags"
            let add = ByteBuffer(string: #"{"tags": ["reviewed", "a/b c"]}"#)
            try await client.execute(uri: path, method: .post, headers: Self.bearer(setup.viewer), body: add) {
                #expect($0.status == .forbidden, "a viewer does not write tags")
            }
            try await client.execute(uri: path, method: .post, body: add) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: path, method: .post, headers: Self.bearer(setup.editor), body: add) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response)
                #expect(body["dataset_id"] as? Int == Int(setup.dataset.id))
                #expect(body["tags"] as? [String] == ["a/b c", "reviewed"])
            }
            try await client.execute(uri: path, method: .get, headers: Self.bearer(setup.viewer)) { response in
                let tags = try Self.json(response)["tags"] as? [String]
                #expect(tags == ["a/b c", "reviewed"])
            }
            try await client.execute(uri: "\(path)/a%2Fb%20c", method: .delete, headers: Self.bearer(setup.viewer)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "\(path)/a%2Fb%20c", method: .delete, headers: Self.bearer(setup.editor)) { response in
                #expect(response.status == .ok)
                let tags = try Self.json(response)["tags"] as? [String]
                #expect(tags == ["reviewed"], "the path segment is percent-decoded")
            }
            try await client.execute(uri: "\(path)/a%2Fb%20c", method: .delete, headers: Self.bearer(setup.editor)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/datasets/999/tags", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func aBadTagIs422NamingItsField() async throws {
        try await withTagApp { client, setup in
            let long = String(repeating: "x", count: 257)
            try await client.execute(
                uri: "/api/v1/datasets/\(setup.dataset.id)/tags", method: .post, headers: Self.bearer(setup.editor),
                body: ByteBuffer(string: #"{"tags": ["ok", "\#(long)"]}"#)
            ) { response in
                #expect(response.status == .unprocessableContent)
                let error = try #require(try Self.json(response)["error"] as? [String: Any])
                #expect((error["detail"] as? [String: Any])?["field"] as? String == "tags[1]")
                #expect((error["message"] as? String)?.contains("1 to 256 bytes") == true)
            }
            try await client.execute(
                uri: "/api/v1/datasets/\(setup.dataset.id)/tags", method: .post, headers: Self.bearer(setup.editor),
                body: ByteBuffer(string: #"{"tags": "reviewed"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                let error = try #require(try Self.json(response)["error"] as? [String: Any])
                #expect((error["detail"] as? [String: Any])?["field"] as? String == "tags")
            }
            #expect(try await setup.store.datasetTags(datasetID: setup.dataset.id) == [])
        }
    }

    /// A slice that tests `dataset.tag` recomputes when a tag changes, though no dataset
    /// version moves; a slice that does not keeps its materialisation.
    @Test func tagWritesRecomputeTheSlicesThatTestTags() async throws {
        try await withTagApp { client, setup in
            let (_, tagged) = try await SliceTests.create(client, setup.dataset.id, "dataset_tag.tag in ['reviewed']")
            #expect(tagged["query"] as? String == #"dataset.tag in ["reviewed"]"#)
            #expect(tagged["count"] as? Int == 0)
            let id = try #require(tagged["id"] as? String)
            _ = try await setup.store.addDatasetTags(datasetID: setup.dataset.id, ["reviewed"])
            try await client.execute(uri: "/api/v1/slices/\(id)", method: .get) { response in
                let body = try Self.json(response)
                #expect(body["count"] as? Int == setup.dataset.count, "every file of the dataset is now in a reviewed dataset")
                #expect(body["version"] as? Int == Int(setup.dataset.version), "no version moved")
            }
            _ = try await setup.store.removeDatasetTag(datasetID: setup.dataset.id, "reviewed")
            try await client.execute(uri: "/api/v1/slices/\(id)/count", method: .get) { response in
                let count = try Self.json(response)["count"] as? Int
                #expect(count == 0)
            }
        }
    }

    /// Diffgram's spelling and Sluice's are one slice: the same id, so one cache entry.
    @Test func diffgramSpellingsShareTheCanonicalSliceID() async throws {
        try await withTagApp { client, setup in
            _ = try await setup.store.createLabel(projectID: setup.dataset.projectID, NewLabel(name: "traffic light"))
            let pairs = [
                ("labels.traffic_light = 0 and 1 < labels.person", #"labels."traffic light" = 0 and labels.person > 1"#),
                ("file.coco_id > 0", "file.metadata.coco_id > 0"),
                ("dataset_tag.tag = 'x' or dataset.id = \(setup.dataset.id)", #"dataset.tag = "x" or dataset.id = \#(setup.dataset.id)"#),
            ]
            for (diffgram, canonical) in pairs {
                let (status, written) = try await SliceTests.create(client, setup.dataset.id, diffgram)
                #expect(status == .created, "\(diffgram)")
                let (_, sluice) = try await SliceTests.create(client, setup.dataset.id, canonical)
                #expect(written["query"] as? String == canonical)
                #expect(written["id"] as? String == sluice["id"] as? String, "\(diffgram)")
                #expect(written["count"] as? Int == sluice["count"] as? Int)
            }
            let (status, body) = try await SliceTests.create(client, setup.dataset.id, "labels.trafic_light > 0")
            #expect(status == .unprocessableContent)
            let detail = (body["error"] as? [String: Any])?["detail"] as? [String: Any]
            #expect(detail?["suggestions"] as? [String] == ["traffic light"])
            #expect(detail?["column"] as? Int == 8)
        }
    }
}
