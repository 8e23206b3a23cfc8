import Foundation
import Sluice
import SluiceImport
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// Snapshots, pinned reads and diffs through the SDK, against a live server on a real store.
@Suite struct VersionSDKTests {
    /// Deletes an instance, renames the label and appends a file: each kind of later write.
    static func editAfterwards(_ store: any Store, _ datasetID: Int64) async throws -> Int64 {
        let items = try await store.items(datasetID: datasetID, range: 0..<9)
        let deleted = try #require(items[0].instances.first).id
        try await store.deleteInstance(id: deleted)
        let person = try #require(try await store.labels(projectID: "coco-dataset").first)
        try await store.renameLabel(id: person.id, to: "human")
        _ = try await COCOImporter(imagesDirectory: Fixtures.cocoSets[3].imagesPath).importFile(
            at: Fixtures.cocoSets[3].annotationsPath, into: store, projectID: "coco-dataset", datasetName: "Default")
        return deleted
    }

    @Test(arguments: StoreEngine.available) func aPinnedDatasetReadsItsSnapshotWhateverIsWrittenLater(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let before = try await store.items(datasetID: stored.id, range: 0..<9)
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host, apiKey: try await store.editorToken()).datasets.get(name: "Default")
                let snapshot = try await dataset.createSnapshot(name: "v1")
                #expect(snapshot.count == 9)
                #expect(try await dataset.snapshots() == [snapshot])
                let deleted = try await Self.editAfterwards(store, stored.id)

                let v1 = try await dataset.at("v1")
                #expect(try await v1.count == 9)
                #expect(try await dataset.count > 9)
                #expect(try await v1[0] == before[0])
                #expect(try await v1[0].instances.contains { $0.id == deleted })
                #expect(try await v1.items(in: 0..<9) == before)
                var streamed: [Item] = []
                for try await item in v1.items(prefetch: 2, pageSize: 4) { streamed.append(item) }
                #expect(streamed == before)
                // The same version by number.
                #expect(try await dataset.at(String(snapshot.version)).items(in: 0..<9) == before)
                // A slice of the snapshot: its items, by the label's new name (ids do not change).
                let people = try await v1.slice("labels.human >= 3")
                let expected = before.filter { $0.instances.count { $0.label == "person" } >= 3 }
                var sliced: [Item] = []
                for try await item in people.items() { sliced.append(item) }
                #expect(sliced.map(\.file) == expected.map(\.file))
                #expect(sliced.map(\.instances) == expected.map(\.instances))
                // A slice of the pinned slice stays pinned.
                let narrower = try await people.slice("file.width >= 0")
                #expect(narrower.pinnedVersion == snapshot.version)
                #expect(try await narrower.count == expected.count)
                // Now is not the snapshot.
                #expect(try await dataset[0] != before[0])
                #expect(try await dataset[1].instances.allSatisfy { $0.label == "human" })
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aDiffStreamsWhatChangedBetweenTwoVersions(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host, apiKey: try await store.editorToken()).datasets.get(name: "Default")
                _ = try await dataset.createSnapshot(name: "v1")
                let deleted = try await Self.editAfterwards(store, stored.id)
                _ = try await dataset.createSnapshot(name: "v2")
                var entries: [VersionDiffEntry] = []
                try await dataset.diff(from: "v1", to: "v2") { entries.append($0) }
                let now = try await store.items(datasetID: stored.id, range: 0..<20)
                #expect(entries.contains(VersionDiffEntry(kind: .instanceRemoved, position: 0, fileID: now[0].file.id, instanceID: deleted)))
                // Every file with a person changed (the rename); the appended file is added with its instances.
                let changed = Set(entries.filter { $0.kind == .fileChanged }.map(\.position))
                #expect(changed == Set(now.prefix(9).filter { !$0.instances.isEmpty || $0.position == 0 }.map(\.position)))
                let added = entries.filter { $0.kind == .fileAdded }.map(\.position)
                #expect(added == Array(9..<now.count))
                #expect(entries.filter { $0.kind == .instanceAdded }.count == now[9...].reduce(0) { $0 + $1.instances.count })
                #expect(entries.map(\.position) == entries.map(\.position).sorted())
                var none: [VersionDiffEntry] = []
                try await dataset.diff(from: "v2") { none.append($0) }
                #expect(none.isEmpty)
            }
        }
    }
}
