import Foundation
import SluiceStore
import SluiceTestSupport
import Testing

@testable import Sluice

/// The tensor stream (`format=tensors`) through the SDK's `tensors()`, against a live server
/// over the sample: every record equals the tensors of the store's item and its media file.
@Suite struct TensorStreamTests {
    /// The tensors the store's item at `position` must stream as.
    static func expected(_ store: any Store, datasetID: Int64, position: Int) async throws -> ItemTensors {
        let item = try #require(try await store.items(datasetID: datasetID, range: position..<(position + 1)).first)
        let labels = try await store.labels(projectID: item.file.projectID)
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1.id, $0) })
        return ItemTensors(instances: item.instances, imageID: ItemTensors.imageID(of: item.file), labelIndex: index)
    }

    @Test(arguments: StoreEngine.available) func datasetTensorsAreTheStoresItemsAndMedia(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                var position = 0
                var instances = 0
                for try await record in dataset.tensors(prefetch: 2, rangeSize: 4) {
                    let tensors = try ItemTensors(record: record)
                    #expect(tensors == (try await Self.expected(store, datasetID: stored.id, position: position)))
                    let file = try #require(try await store.items(datasetID: stored.id, range: position..<(position + 1)).first).file
                    #expect(record.metadata["position"] == String(position))
                    #expect(record.metadata["file_id"] == String(file.id))
                    #expect(record.metadata["width"] == file.media.width.map(String.init))
                    let media = try Data(contentsOf: URL(fileURLWithPath: store.media.path(for: try #require(file.media.sha256))))
                    #expect(record.tensors["image"]?.bytes == Array(media))
                    instances += tensors.count
                    position += 1
                }
                #expect(position == 9)
                #expect(instances == 24, "every annotation of the sample is an object with a box")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func shardsOfAShuffledTensorEpochCoverTheSliceOnce(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                let slice = try await dataset.slice("labels.person >= 2")
                let expected = try await slice.items().reduce(into: [String]()) { $0.append(String($1.file.id)) }
                var seen: [String] = []
                for rank in 0..<2 {
                    let epoch = try await slice.epoch().shuffled(seed: 7, epoch: 1).sharded(rank: rank, worldSize: 2)
                    for try await record in epoch.tensors(prefetch: 2, rangeSize: 2) {
                        seen.append(try #require(record.metadata["file_id"]))
                        #expect(try ItemTensors(record: record).count >= 2)
                    }
                    #expect(epoch.delivered == epoch.length)
                }
                #expect(seen.sorted() == expected.sorted())
                #expect(seen.count == expected.count)
            }
        }
    }
}
