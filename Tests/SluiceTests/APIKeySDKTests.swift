import Foundation
import Sluice
import SluiceStore
import SluiceTestSupport
import Testing

/// The Swift SDK takes the same keys as the server hands out, on a private project.
@Suite struct APIKeySDKTests {
    @Test(arguments: StoreEngine.available) func aViewerKeyReadsAPrivateProjectAndNoKeyIsRefused(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            try await store.setProjectPublic(id: "coco-dataset", isPublic: false)
            let key = NewAPIKey.generate(projectID: "coco-dataset", role: .viewer)
            try await store.insertAPIKey(key.stored)
            let expected = try await store.items(datasetID: stored.id, range: 0..<9)
            try await withLiveServer(store: store) { host in
                await #expect {
                    _ = try await Project(id: "coco-dataset", host: host)
                } throws: { error in
                    guard case SluiceError.server(let status, let code, _) = error else { return false }
                    return status == 401 && code == "unauthorized"
                }
                let project = try await Project(id: "coco-dataset", host: host, apiKey: key.token)
                let dataset = try await project.datasets.get(name: "Default")
                #expect(try await dataset.count == 9)
                #expect(try await dataset[7] == expected[7])
                var ids: [Int64] = []
                for try await item in dataset.items(prefetch: 2) { ids.append(item.file.id) }
                #expect(ids == expected.map(\.file.id), "streams carry the key too")
                let slice = try await dataset.slice("labels.person >= 2")
                #expect(try await slice.count == expected.filter { $0.instances.count >= 2 }.count)
            }
        }
    }
}
