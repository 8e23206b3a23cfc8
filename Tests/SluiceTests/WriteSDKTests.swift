import Foundation
import Sluice
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// The SDK's write calls against a live server on 127.0.0.1 over a real SQLite store.
@Suite struct WriteSDKTests {
    static let photo = URL(fileURLWithPath: Fixtures.path("coco/ochuman/000817.jpg"))

    @Test(arguments: StoreEngine.available) func uploadAppendAndReadBackThroughTheStream(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let token = try await store.editorToken()
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host, apiKey: token)
                var bytes = [UInt8](try Data(contentsOf: Self.photo))
                bytes[bytes.count - 50] ^= 0x40
                let media = try await project.uploadMedia(bytes)
                #expect(media.type == .image && media.mimeType == "image/jpeg" && media.width != nil)
                let again = try await project.uploadMedia(bytes)
                #expect(again == media, "a second upload of the same bytes is the same media")
                let dataset = try await project.datasets.get(name: "Default")
                let appended = try await dataset.append(
                    [
                        FileDraft(
                            name: "vendor-1.jpg", sha256: media.sha256,
                            instances: [
                                InstanceDraft(label: "cyclist", kind: .box, bbox: BoundingBox(xMin: 1, yMin: 2, xMax: 3, yMax: 4)),
                                InstanceDraft(
                                    label: "person", kind: .polygon, geometry: Geometry(polygon: [[0, 0, 10, 0, 10, 10]])),
                            ])
                    ], createLabels: true)
                #expect(appended.map(\.position) == [stored.count])
                let fresh = try await project.datasets.get(name: "Default")
                #expect(try await fresh.count == stored.count + 1)
                var streamed: [Item] = []
                for try await item in fresh.items(prefetch: 4) { streamed.append(item) }
                let last = try #require(streamed.last)
                #expect(last.file.name == "vendor-1.jpg")
                #expect(last.instances.map(\.label) == ["cyclist", "person"])
                #expect(last.instances[1].bbox == BoundingBox(xMin: 0, yMin: 0, xMax: 10, yMax: 10), "the box comes from the polygon")

                await #expect(throws: SluiceError.invalidField(
                    path: "files[0].instances[0].bbox",
                    message: "files[0].instances[0].bbox: needs x_min ≤ x_max and y_min ≤ y_max, got [5.0, 0.0, 1.0, 1.0]")
                ) {
                    _ = try await fresh.append([
                        FileDraft(
                            name: "bad.jpg", sha256: media.sha256,
                            instances: [InstanceDraft(label: "person", kind: .box, bbox: BoundingBox(xMin: 5, yMin: 0, xMax: 1, yMax: 1))])
                    ])
                }
                #expect(try await project.datasets.get(name: "Default").count == stored.count + 1, "nothing of the refused append")
            }
        }
    }

    @Test(arguments: StoreEngine.available) func removedPositionsAreSkippedByIterationAndRefusedByPosition(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let token = try await store.editorToken()
            let all = try await store.items(datasetID: stored.id, range: 0..<stored.count)
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host, apiKey: token)
                let dataset = try await project.datasets.get(name: "Default")
                let start = ChangeCursor(seq: try await store.changeCursor(datasetID: stored.id))
                let after = try await dataset.remove(fileID: all[3].file.id)
                #expect(after.count == stored.count && after.removedCount == 1)
                try await dataset.remove(fileID: all[7].file.id)
                let expected = all.filter { ![3, 7].contains($0.position) }.map(\.file.id)
                var streamed: [Int64] = []
                for try await item in dataset.items(prefetch: 2, pageSize: 3) { streamed.append(item.file.id) }
                #expect(streamed == expected, "iteration skips removed positions")
                var tensors = 0
                for try await record in dataset.tensors(rangeSize: 2) {
                    #expect(record.metadata["removed"] == nil)
                    tensors += 1
                }
                #expect(tensors == expected.count)
                // An epoch's state counts removed positions: a state saved after them resumes after them.
                let epoch = try await dataset.epoch()
                var iterator = epoch.items(prefetch: 1, rangeSize: 2).makeAsyncIterator()
                for _ in 0..<4 { _ = try await iterator.next() }
                let state = epoch.state
                #expect(state.delivered == 5, "4 items delivered and the removed position 3 passed")
                await #expect(throws: SluiceError.self) { _ = try await dataset[3] }
                let page = try await dataset.items(in: 2..<5)
                #expect(page.map(\.isRemoved) == [false, true, false], "pages show a removed position, marked")
                var followed: [FollowedItem.Kind] = []
                for try await element in dataset.follow(from: start, wait: .milliseconds(100)) {
                    followed.append(element.kind)
                    #expect(element.item.isRemoved)
                    if followed.count == 2 { break }
                }
                #expect(followed == [.removed, .removed])
                // Moving a file back makes it a new position.
                let other = try await project.datasets.get(name: "Default")
                let back = try await other.copy(fileIDs: [all[3].file.id])
                #expect(back.map(\.position) == [stored.count])
            }
        }
    }

    /// A label is deleted only once no live instance carries it, and deleting it moves no
    /// tensor index: later labels keep theirs, a snapshot from before still streams it.
    @Test(arguments: StoreEngine.available) func deletedLabelsKeepEveryTensorIndex(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            let token = try await store.editorToken()
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host, apiKey: token)
                let before = try await project.labels()
                #expect(before.map(\.index) == Array(0..<before.count).map(Optional.init))
                let bicycle = try await project.createLabel(name: "bicycle")
                let car = try await project.createLabel(name: "car")
                #expect(bicycle.index == before.count && car.index == before.count + 1)
                let dataset = try await project.datasets.get(name: "Default")
                let media = try await project.uploadMedia(contentsOf: Self.photo)
                let box = BoundingBox(xMin: 1, yMin: 2, xMax: 30, yMax: 40)
                let file = try #require(
                    try await dataset.append([
                        FileDraft(
                            name: "street.jpg", sha256: media.sha256,
                            instances: [InstanceDraft(label: "bicycle", kind: .box, bbox: box), InstanceDraft(label: "car", kind: .box, bbox: box)])
                    ]).first)
                let snapshot = try await dataset.createSnapshot(name: "with-bicycle")

                await #expect(throws: SluiceError.self, "a live instance carries it") {
                    try await project.deleteLabel(id: bicycle.id)
                }
                #expect(try await project.labels().contains(bicycle))
                _ = try await project.replaceInstances(fileID: file.file.id, with: [InstanceDraft(label: "car", kind: .box, bbox: box)])
                try await project.deleteLabel(id: bicycle.id)

                let after = try await project.labels()
                #expect(after.map(\.name) == before.map(\.name) + ["car"])
                #expect(after.last?.index == car.index, "car keeps its index; it is no longer its place in the list")
                let now = try await project.datasets.get(name: "Default")
                var last: ItemTensors?
                for try await record in now.tensors(rangeSize: 4) { last = try ItemTensors(record: record) }
                #expect(last?.labels == [Int64(car.index!)])
                var pinned: ItemTensors?
                for try await record in try await now.at(snapshot.name).tensors(rangeSize: 4) {
                    pinned = try ItemTensors(record: record)
                }
                #expect(pinned?.labels == [Int64(bicycle.index!), Int64(car.index!)], "the snapshot streams the deleted label")
                #expect(pinned?.labelNames == ["bicycle", "car"])

                await #expect(throws: SluiceError.notFound("no label \(bicycle.id) in project coco-dataset")) {
                    try await project.deleteLabel(id: bicycle.id)
                }
                let again = try await project.createLabel(name: "bicycle")
                #expect(again.id != bicycle.id && again.index == car.index! + 1, "the name is free, the index is new")
            }
        }
    }

    /// Concurrent read-modify-write saves with the revision check on shared files, while an
    /// epoch streams and a follower runs: no lost update, the follower sees each accepted
    /// save once, and a snapshot taken before reads unchanged.
    @Test(arguments: StoreEngine.available) func concurrentSavesLoseNothingAndAreFollowedOnce(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let stored = try await store.importSample()
            let token = try await store.editorToken()
            let snapshot = try await store.createSnapshot(datasetID: stored.id, name: "before")
            let pinned = try await store.versionPoint(datasetID: stored.id, version: snapshot.version)!
            let before = try await store.items(datasetID: stored.id, range: 0..<stored.count)
            let beforePinned = try await store.storedItems(datasetID: stored.id, range: 0..<stored.count, at: pinned)
                .map { try $0.decoded() }
            #expect(beforePinned == before)
            let files = before.prefix(3).map(\.file.id)
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host, apiKey: token)
                let dataset = try await project.datasets.get(name: "Default")
                let start = ChangeCursor(seq: try await store.changeCursor(datasetID: stored.id))
                let writers = 6, savesEach = 8
                // (file, revision the save produced, its marker) for every accepted save.
                let accepted = SaveLog()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            for save in 0..<savesEach {
                                let file = files[(writer + save) % files.count]
                                let marker = Double(writer * 1000 + save)
                                while true {
                                    let current = try await project.annotation(fileID: file)
                                    let box = InstanceDraft(
                                        label: "person", kind: .box,
                                        bbox: BoundingBox(xMin: marker, yMin: 0, xMax: marker + 1, yMax: 1))
                                    do {
                                        let saved = try await project.replaceInstances(
                                            fileID: file, with: [box], ifRevision: current.file.revision)
                                        await accepted.record(Save(file: file, revision: saved.file.revision, marker: marker))
                                        break
                                    } catch SluiceError.staleRevision {
                                        continue  // someone saved first: read again and redo
                                    }
                                }
                            }
                        }
                    }
                    // An epoch streams meanwhile.
                    group.addTask {
                        var count = 0
                        for try await _ in dataset.items(prefetch: 2) { count += 1 }
                        #expect(count == stored.count)
                    }
                    try await group.waitForAll()
                }
                let saves = await accepted.saves
                #expect(saves.count == writers * savesEach)
                #expect(Set(saves.map(\.revision)).count == saves.count, "every accepted save made its own revision")
                for file in files {
                    let last = try #require(saves.filter { $0.file == file }.max { $0.revision < $1.revision })
                    let now = try await project.annotation(fileID: file)
                    #expect(now.instances.map(\.bbox?.xMin) == [last.marker], "the final state is the last accepted save")
                }
                var followed = 0
                for try await element in dataset.follow(from: start, wait: .milliseconds(200)) {
                    #expect(element.kind == .changed && files.contains(element.item.file.id))
                    followed += 1
                    if followed == saves.count { break }
                }
                #expect(followed == saves.count)
                let after = try await store.storedItems(datasetID: stored.id, range: 0..<stored.count, at: pinned)
                    .map { try $0.decoded() }
                #expect(after == before, "the snapshot reads as it did")
            }
        }
    }
}

/// One accepted save: the file, the revision it produced, the box it wrote.
struct Save: Sendable {
    var file: Int64
    var revision: Int64
    var marker: Double
}

actor SaveLog {
    private(set) var saves: [Save] = []
    func record(_ save: Save) { saves.append(save) }
}
