import SluiceModel
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// An import counts its instances per file and label in one statement at its end (row
/// triggers are off meanwhile): the counts of the files it creates and of the files it adds
/// instances to must both come out as a direct count of the instances.
@Suite struct ImportCountsTests {
    @Test(arguments: StoreEngine.available) func anImportCountsItsNewFilesAndTheFilesItAddsTo(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            _ = try await store.ensureProject(Project(id: "counts", name: "counts"))
            let first = try await store.performImport(projectID: "counts", datasetName: "D") { writer in
                let cat = try writer.upsertLabel(NewLabel(name: "cat"))
                let dog = try writer.upsertLabel(NewLabel(name: "dog"))
                var files: [Int64] = []
                for (n, labels) in [[cat, cat, dog], [dog]].enumerated() {
                    let file = try writer.insertFile(NewFile(type: .image, name: "old-\(n)", media: Media()))
                    try writer.append(fileID: file)
                    for label in labels { _ = try writer.insertInstance(Self.box(file, label)) }
                    files.append(file)
                }
                return files
            }
            // The second import adds to old-0 (a label it has and one it has not) and makes a file.
            try await store.performImport(projectID: "counts", datasetName: "D") { writer in
                let cat = try writer.upsertLabel(NewLabel(name: "cat"))
                let bird = try writer.upsertLabel(NewLabel(name: "bird"))
                for label in [cat, bird, bird] { _ = try writer.insertInstance(Self.box(first[0], label)) }
                let file = try writer.insertFile(NewFile(type: .image, name: "new", media: Media()))
                try writer.append(fileID: file)
                for label in [bird, cat] { _ = try writer.insertInstance(Self.box(file, label)) }
            }
            let dataset = try #require(try await store.datasets(projectID: "counts").first)
            let items = try await store.storedItems(datasetID: dataset.id, range: 0..<dataset.count)
            var direct: [Int64: LabelTally] = [:]
            for item in items {
                let labels = item.instances.compactMap(\.labelID)
                for label in labels { direct[label, default: LabelTally()].instances += 1 }
                for label in Set(labels) { direct[label, default: LabelTally()].files += 1 }
            }
            #expect(items.map { $0.instances.count } == [6, 1, 2])
            #expect(try await store.labelTallies(datasetID: dataset.id, positions: nil) == direct)
            #expect(try await store.labelTallies(datasetID: dataset.id, positions: [0]) == Self.tallies(items[0]))
        }
    }

    static func box(_ file: Int64, _ label: Int64) -> NewInstance {
        NewInstance(fileID: file, labelID: label, kind: .box, bbox: BoundingBox(xMin: 1, yMin: 2, xMax: 3, yMax: 4))
    }

    static func tallies(_ item: StoredItem) -> [Int64: LabelTally] {
        var tallies: [Int64: LabelTally] = [:]
        for label in item.instances.compactMap(\.labelID) { tallies[label, default: LabelTally(files: 1)].instances += 1 }
        return tallies
    }
}
