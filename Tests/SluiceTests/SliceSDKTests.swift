import Foundation
import Sluice
import SluiceQuery
import SluiceStore
import SluiceTestSupport
import Testing

@Suite struct SliceSDKTests {
    @Test(arguments: StoreEngine.available) func slicesHaveTheWholeDatasetAPI(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let all = try await store.items(datasetID: stored.id, range: 0..<9)
            let crowded = all.filter { $0.instances.count >= 2 }
            let crowdedAndWide = crowded.filter { ($0.file.media.width ?? 0) >= 640 }
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                let slice = try await dataset.slice("labels.person >= 2")
                #expect(slice.query == "labels.person >= 2")
                #expect(try await slice.count == crowded.count)
                #expect(try await slice[0].file.id == crowded[0].file.id)
                var ids: [Int64] = []
                for try await item in slice.items(prefetch: 2, pageSize: 2) { ids.append(item.file.id) }
                #expect(ids == crowded.map(\.file.id))
                let narrower = try await slice.slice("file.width >= 640")
                #expect(narrower.query == "labels.person >= 2 and file.width >= 640")
                #expect(try await narrower.count == crowdedAndWide.count)
                await #expect(throws: SluiceError.positionOutOfRange(position: crowded.count, count: crowded.count)) {
                    _ = try await slice[crowded.count]
                }
            }
        }
    }

    @Test(arguments: StoreEngine.available) func badQueriesFailWithTheirColumn(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                // Syntax: caught by the SDK before any request.
                await #expect {
                    _ = try await dataset.slice("labels.person >")
                } throws: { error in
                    guard case SluiceError.badQuery(_, let column, _) = error else { return false }
                    return column == 16
                }
                // Names: caught by the server, which knows the labels.
                await #expect(throws: SluiceError.badQuery(
                    message: try Self.serverMessage(for: "labels.persn > 0"), column: 8, suggestions: ["person"])
                ) {
                    _ = try await dataset.slice("labels.persn > 0")
                }
            }
        }
    }

    /// The message the checker gives, so the test does not restate its wording.
    static func serverMessage(for query: String) throws -> String {
        do {
            _ = try QueryParser.parse(query).checked(
                against: QuerySchema(labels: [Label(id: 1, name: "person", color: "#000000")], attributeGroups: []))
            return ""
        } catch {
            return error.message
        }
    }
}
