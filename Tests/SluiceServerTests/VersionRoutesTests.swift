import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// `/datasets/{id}/snapshots`, `?version=` reads, `/datasets/{id}/diff` and pinned exports.
@Suite struct VersionRoutesTests {
    func withSampleApp(_ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore, Dataset) async throws -> Void)
        async throws
    {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.live) { client in try await body(client, store, dataset) }
        }
    }

    /// Snapshots are writes: an editor key's header.
    static func editor(_ store: any Store) async throws -> HTTPFields {
        [.authorization: "Bearer \(try await store.editorToken())"]
    }

    static func code(_ response: TestResponse) throws -> String {
        try JSONDecoder().decode(ErrorResponse.self, from: Data(buffer: response.body)).error.code
    }

    @Test func snapshotsAreCreatedOnceAndListed() async throws {
        try await withSampleApp { client, store, dataset in
            let editor = try await Self.editor(store)
            let uri = "/api/v1/datasets/\(dataset.id)/snapshots"
            let created = try await client.execute(uri: uri, method: .post, headers: editor, body: ByteBuffer(string: #"{"name": "v1"}"#)) {
                #expect($0.status == .created)
                return try JSONDecoder().decode(Snapshot.self, from: Data(buffer: $0.body))
            }
            #expect(created.version == dataset.version && created.count == dataset.count)
            try await client.execute(uri: uri, method: .post, headers: editor, body: ByteBuffer(string: #"{"name": "v1"}"#)) {
                #expect($0.status == .conflict)
                let code = try Self.code($0)
                #expect(code == "conflict")
            }
            for name in ["7", "", "+12", "-3", "1-2", "99999999999999999999"] {
                let body = try JSONEncoder().encode(["name": name])
                try await client.execute(uri: uri, method: .post, headers: editor, body: ByteBuffer(data: body)) {
                    #expect($0.status == .badRequest, "\(name): a name with no character but digits, + and - reads as a version")
                    #expect(String(buffer: $0.body).contains("a snapshot name needs"), "the refusal names what is wrong")
                }
            }
            let listed = try await client.execute(uri: uri, method: .get) {
                try JSONDecoder().decode([Snapshot].self, from: Data(buffer: $0.body))
            }
            #expect(listed == [created])
        }
    }

    @Test func readsAtAVersionAreTheBytesOfThatVersion() async throws {
        try await withSampleApp { client, store, dataset in
            let editor = try await Self.editor(store)
            let base = "/api/v1/datasets/\(dataset.id)"
            _ = try await client.execute(uri: "\(base)/snapshots", method: .post, headers: editor, body: ByteBuffer(string: #"{"name": "v1"}"#)) { _ in }
            let page = try await client.execute(uri: "\(base)/items?start=0&end=9", method: .get) { String(buffer: $0.body) }
            let stream = try await client.execute(uri: "\(base)/stream", method: .get) { String(buffer: $0.body) }
            let export = try await client.execute(uri: "\(base)/export?format=coco", method: .get) { String(buffer: $0.body) }
            let items = try await store.items(datasetID: dataset.id, range: 0..<9)
            try await store.deleteInstance(id: items[2].instances[0].id)
            try await store.renameLabel(id: try #require(items[2].instances[0].labelID), to: "human")
            let pinnedPage = try await client.execute(uri: "\(base)/items?start=0&end=9&version=v1", method: .get) { String(buffer: $0.body) }
            let pinnedStream = try await client.execute(uri: "\(base)/stream?version=v1", method: .get) { String(buffer: $0.body) }
            let pinnedExport = try await client.execute(uri: "\(base)/export?format=coco&version=v1", method: .get) { String(buffer: $0.body) }
            let pageNow = try await client.execute(uri: "\(base)/items?start=0&end=9", method: .get) { String(buffer: $0.body) }
            #expect(pinnedPage == page)
            #expect(pinnedStream == stream)
            #expect(pinnedExport == export)
            #expect(pageNow != page)
            try await client.execute(uri: "\(base)/count?version=nope", method: .get) {
                #expect($0.status == .notFound)
                let code = try Self.code($0)
                #expect(code == "version_not_found")
            }
            let diff = try await client.execute(uri: "\(base)/diff?from=v1", method: .get) { String(buffer: $0.body) }
            let lines = diff.split(separator: "\n").map { try? JSONDecoder().decode(VersionDiffEntry.self, from: Data($0.utf8)) }
            #expect(lines.contains(VersionDiffEntry(kind: .instanceRemoved, position: 2, fileID: items[2].file.id, instanceID: items[2].instances[0].id)))
            #expect(lines.allSatisfy { $0 != nil })
        }
    }
}
