import Foundation
import Sluice
import SluiceStore
import SluiceTestSupport
import Testing

/// Every query Diffgram's language accepts, Sluice accepts with the same meaning (issue 20):
/// each Diffgram spelling and its Sluice spelling make the same slice (one id, one canonical
/// query, the same positions) on a live server over a real SQLite store, through the SDK.
@Suite struct DiffgramQuerySDKTests {
    static let photo = Fixtures.path("coco/crowdpose/106848.jpg")

    /// The sample, plus files with a `sensor` metadata key and labels named "traffic light",
    /// "parking_meter" and "parking meter", a "time of day" attribute, and a second dataset
    /// "Other" holding some files, tagged "reviewed". Returns the ids of Default and Other.
    static func prepare(_ store: any Store) async throws -> (defaultID: Int64, otherID: Int64) {
        let dataset = try await store.importSample()
        let media = try store.media.put(fileAt: photo)
        _ = try await store.createAttributeGroup(
            projectID: dataset.projectID, name: "time of day", kind: .select, options: ["day", "night"])
        let box = BoundingBox(xMin: 1, yMin: 1, xMax: 5, yMax: 5)
        let labels = ["traffic light", "parking_meter", "parking meter"]
        let drafts = (0..<9).map { i in
            FileDraft(
                name: "sensor-\(i).jpg", sha256: media.sha256, metadata: ["sensor": .string(i % 2 == 0 ? "A" : "B")],
                instances: [
                    InstanceDraft(
                        label: labels[i % 3], kind: .box, bbox: box,
                        attributes: ["time of day": .string(i % 3 == 0 ? "night" : "day")])
                ] + Array(repeating: InstanceDraft(label: labels[i % 3], kind: .box, bbox: box), count: i % 4))
        }
        let appended = try await store.appendFiles(datasetID: dataset.id, drafts, createLabels: true)
        let other = try await store.ensureDataset(projectID: dataset.projectID, name: "Other")
        _ = try await store.copyFiles(appended.prefix(4).map(\.file.id), into: other.id, movingFrom: nil)
        _ = try await store.addDatasetTags(datasetID: other.id, ["reviewed"])
        _ = try await store.addDatasetTags(datasetID: dataset.id, ["train"])
        return (dataset.id, other.id)
    }

    /// (Diffgram's spelling, Sluice's, the canonical text both print as).
    static func table(defaultID: Int64, otherID: Int64) -> [(String, String, String)] {
        [
            ("labels.traffic_light > 0", #"labels."traffic light" > 0"#, #"labels."traffic light" > 0"#),
            ("labels.parking_meter >= 2", "labels.parking_meter >= 2", "labels.parking_meter >= 2"),
            ("attribute.time_of_day = 'night'", #"attribute."time of day" = "night""#, #"attribute."time of day" = "night""#),
            ("file.sensor = 'A'", #"file.metadata.sensor = "A""#, #"file.metadata.sensor = "A""#),
            ("not file.sensor = 'A'", #"not file.metadata.sensor = "A""#, #"not file.metadata.sensor = "A""#),
            ("file.coco_id > 0", "file.metadata.coco_id > 0", "file.metadata.coco_id > 0"),
            ("dataset.id in [\(otherID), 999]", "dataset.id in [\(otherID), 999]", "dataset.id in [\(otherID), 999]"),
            ("dataset.id = \(otherID)", #"dataset.name = "Other""#, "dataset.id = \(otherID)"),
            ("\(defaultID) = dataset.id and 2 < labels.person", "dataset.id = \(defaultID) and labels.person > 2",
             "dataset.id = \(defaultID) and labels.person > 2"),
            ("1 >= labels.parking_meter", "labels.parking_meter <= 1", "labels.parking_meter <= 1"),
            ("dataset_tag.tag in ['reviewed']", #"dataset.tag in ["reviewed"]"#, #"dataset.tag in ["reviewed"]"#),
            ("dataset_tag.tag = 'reviewed'", #"dataset.name = "Other""#, #"dataset.tag = "reviewed""#),
        ]
    }

    @Test(arguments: StoreEngine.available) func diffgramFormsMakeTheSameSlicesAsSluicesOnALiveServer(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let (defaultID, otherID) = try await Self.prepare(store)
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                let count = try await dataset.count
                for (diffgram, sluice, canonical) in Self.table(defaultID: defaultID, otherID: otherID) {
                    let written = try await dataset.slice(diffgram)
                    let equivalent = try await dataset.slice(sluice)
                    #expect(written.query == canonical, "\(diffgram)")
                    var positions: [Int64] = []
                    for try await item in written.items(prefetch: 2) { positions.append(item.file.id) }
                    var expected: [Int64] = []
                    for try await item in equivalent.items(prefetch: 2) { expected.append(item.file.id) }
                    #expect(positions == expected, "\(diffgram) selects what \(sluice) does")
                    #expect(!positions.isEmpty && positions.count < count, "\(diffgram) selects a proper subset")
                    if written.query == equivalent.query { #expect(written.id == equivalent.id, "one meaning, one slice id") }
                }
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aLabelThatHasTheUnderscoreWinsOverTheSpacedOne(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            _ = try await Self.prepare(store)
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                let underscored = try await dataset.slice("labels.parking_meter > 0")
                let spaced = try await dataset.slice(#"labels."parking meter" > 0"#)
                #expect(try await underscored.count == 3)
                #expect(try await spaced.count == 3)
                #expect(try await underscored[0].file.name == "sensor-1.jpg", "the label with the underscore")
                #expect(try await spaced[0].file.name == "sensor-2.jpg")
            }
        }
    }

    /// Tags through the SDK: an editor adds and removes them, anyone who reads lists them,
    /// and a slice that tests them follows each change with no dataset version moving.
    @Test(arguments: StoreEngine.available) func tagsThroughTheSDKAndTheSlicesThatTestThem(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            _ = try await Self.prepare(store)
            let token = try await store.editorToken()
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host, apiKey: token)
                let dataset = try await project.datasets.get(name: "Default")
                let version = dataset.info.version
                #expect(try await dataset.tags() == ["train"])
                let slice = try await dataset.slice("dataset.tag = 'gold'")
                #expect(try await slice.count == 0)
                #expect(try await dataset.addTags(["gold", "a/b c"]) == ["a/b c", "gold", "train"])
                #expect(try await slice.count == dataset.count, "the same slice id recomputes after a tag write")
                #expect(try await dataset.removeTag("a/b c") == ["gold", "train"], "a tag with / and a space round-trips")
                #expect(try await dataset.removeTag("gold") == ["train"])
                #expect(try await slice.count == 0)
                #expect(try await project.datasets.get(name: "Default").info.version == version, "tags advance no version")
                await #expect(throws: SluiceError.invalidField(
                    path: "tags[1]", message: "tags[1]: a tag has no control characters, this one has U+000A")
                ) {
                    try await dataset.addTags(["ok", "bad\nline"])
                }
                let reader = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                #expect(try await reader.tags() == ["train"], "reading tags needs no key on a public project")
                await #expect {
                    try await reader.addTags(["x"])
                } throws: { error in
                    guard case SluiceError.server(let status, _, _) = error else { return false }
                    return status == 401
                }
            }
        }
    }
}
