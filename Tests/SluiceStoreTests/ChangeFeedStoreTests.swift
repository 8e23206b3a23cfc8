import Foundation
import SluiceModel
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// The change feed and file revisions, on every engine (`SQLiteStore+Changes.swift`, `PostgresStore+Versions.swift`).
@Suite struct ChangeFeedStoreTests {
    /// Every row of the feed, of every dataset, in seq order.
    static func allChanges(_ store: any Store) async throws -> [(datasetID: Int64, change: DatasetChange)] {
        var rows: [(datasetID: Int64, change: DatasetChange)] = []
        for project in try await store.projects() {
            for dataset in try await store.datasets(projectID: project.id) {
                rows += try await store.changes(datasetID: dataset.id, after: 0, limit: 10_000).changes.map { (dataset.id, $0) }
            }
        }
        return rows.sorted { $0.change.seq < $1.change.seq }
    }

    /// File id → revision, for every file of every dataset.
    static func revisions(_ store: any Store) async throws -> [Int64: Int64] {
        var revisions: [Int64: Int64] = [:]
        for project in try await store.projects() {
            for dataset in try await store.datasets(projectID: project.id) {
                for item in try await store.storedItems(datasetID: dataset.id, range: 0..<dataset.count) {
                    revisions[item.file.id] = item.file.revision
                }
            }
        }
        return revisions
    }

    @Test(arguments: StoreEngine.available) func anImportRecordsOneAddedRangeHoweverManyFiles(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let first = try await store.importGenerated(files: 500, instancesPerFile: 2, in: directory)
            let afterFirst = try await Self.allChanges(store)
            #expect(afterFirst.count == 1)
            let added = try #require(afterFirst.first)
            #expect(added.datasetID == first.id)
            #expect(added.change.kind == .added && added.change.positions == 0..<500)

            let second = try await store.importGenerated(files: 300, instancesPerFile: 1, in: directory)
            #expect(second.count == 800)
            let rows = try await Self.allChanges(store)
            #expect(rows.count == 2)
            #expect(rows[1].change.kind == .added && rows[1].change.positions == 500..<800)
            #expect(rows[1].change.seq > rows[0].change.seq)

            // A file's revision is the seq of the import that created it.
            let items = try await store.items(datasetID: first.id, range: 0..<800)
            #expect(items[..<500].allSatisfy { $0.file.revision == rows[0].change.seq })
            #expect(items[500...].allSatisfy { $0.file.revision == rows[1].change.seq })
        }
    }

    @Test(arguments: StoreEngine.available) func aFailedImportRecordsNothing(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let before = try await Self.allChanges(store)
            await #expect(throws: StoreError.self) {
                _ = try await store.performImport(projectID: "coco-dataset", datasetName: "Default") { writer in
                    try writer.append(fileID: try writer.insertFile(NewFile(type: .image, name: "x", media: Media())))
                    throw StoreError.invalid("abandon")
                }
            }
            #expect(try await Self.allChanges(store).map(\.change) == before.map(\.change))
            #expect(try await store.changeCursor(datasetID: dataset.id) == before.last?.change.seq)
        }
    }

    @Test(arguments: StoreEngine.available) func pagesFollowTheCursorAndStayWithinTheirDataset(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let other = try await store.importSample(dataset: "Other")
            let all = try await store.changes(datasetID: dataset.id, after: 0, limit: 100)
            #expect(all.changes.count == Fixtures.sampleSets.count)
            #expect(all.changes.allSatisfy { $0.kind == .added })
            // The appended ranges tile the dataset, in order.
            #expect(all.changes.first?.start == 0 && all.changes.last?.end == dataset.count)
            for (a, b) in zip(all.changes, all.changes.dropFirst()) { #expect(a.end == b.start && a.seq < b.seq) }
            #expect(all.cursor == all.changes.last?.seq)
            #expect(try await store.changeCursor(datasetID: dataset.id) == all.cursor)

            var cursor: Int64 = 0
            var paged: [DatasetChange] = []
            while true {
                let page = try await store.changes(datasetID: dataset.id, after: cursor, limit: 2)
                #expect(page.changes.count <= 2)
                guard !page.changes.isEmpty else {
                    #expect(page.cursor == cursor, "an empty page keeps the cursor")
                    break
                }
                paged += page.changes
                cursor = page.cursor
            }
            #expect(paged == all.changes)

            let others = try await store.changes(datasetID: other.id, after: 0, limit: 100).changes
            #expect(others.count == Fixtures.sampleSets.count)
            #expect(Set(others.map(\.seq)).isDisjoint(with: all.changes.map(\.seq)))
            #expect(try await store.changes(datasetID: 999, after: 0, limit: 10).changes.isEmpty)
        }
    }

    @Test(arguments: StoreEngine.available) func instanceWritesRecordAChangeAndBumpOnlyThatFilesRevision(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let file = try await store.items(datasetID: dataset.id, range: 4..<5)[0].file
            let before = try await Self.revisions(store)
            let cursor = try await store.changeCursor(datasetID: dataset.id)

            let added = try await store.addInstance(
                Instance(fileID: file.id, labelID: nil, kind: .box, bbox: BoundingBox(xMin: 1, yMin: 1, xMax: 2, yMax: 2)))
            let afterAdd = try await store.changes(datasetID: dataset.id, after: cursor, limit: 10)
            #expect(afterAdd.changes.map(\.kind) == [.changed])
            #expect(afterAdd.changes.map(\.positions) == [4..<5])
            let addRevisions = try await Self.revisions(store)
            #expect(addRevisions[file.id] == afterAdd.cursor)
            #expect(addRevisions.filter { $0.key != file.id } == before.filter { $0.key != file.id })
            #expect(try await store.items(datasetID: dataset.id, range: 4..<5)[0].file.revision == afterAdd.cursor)
            #expect(try await store.file(id: file.id)?.revision == afterAdd.cursor)

            try await store.deleteInstance(id: added.id)
            let afterDelete = try await store.changes(datasetID: dataset.id, after: afterAdd.cursor, limit: 10)
            #expect(afterDelete.changes.map(\.kind) == [.changed])
            #expect(afterDelete.changes.map(\.positions) == [4..<5])
            let deleteRevisions = try await Self.revisions(store)
            #expect(deleteRevisions[file.id] == afterDelete.cursor)
            #expect(deleteRevisions[file.id] != addRevisions[file.id])
            #expect(deleteRevisions.filter { $0.key != file.id } == before.filter { $0.key != file.id })
            #expect(try await store.dataset(id: dataset.id)?.version == dataset.version + 2, "versions advance as before")
        }
    }

    @Test(arguments: StoreEngine.available) func aFileInSeveralDatasetsIsChangedInEach(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let file = try await store.items(datasetID: dataset.id, range: 6..<7)[0].file
            let subset = try await store.performImport(projectID: "coco-dataset", datasetName: "Subset") { writer in
                try writer.append(fileID: try writer.insertFile(NewFile(type: .image, name: "first", media: Media())))
                try writer.append(fileID: file.id)
                return writer.datasetID
            }
            #expect(try await store.file(id: file.id)?.revision == file.revision, "appending a file does not change its item")
            let cursors = (try await store.changeCursor(datasetID: dataset.id), try await store.changeCursor(datasetID: subset))

            _ = try await store.addInstance(Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil))
            let inDataset = try await store.changes(datasetID: dataset.id, after: cursors.0, limit: 10).changes
            let inSubset = try await store.changes(datasetID: subset, after: cursors.1, limit: 10).changes
            #expect(inDataset.map(\.positions) == [6..<7] && inDataset.map(\.kind) == [.changed])
            #expect(inSubset.map(\.positions) == [1..<2] && inSubset.map(\.kind) == [.changed])
            #expect(try await store.file(id: file.id)?.revision == max(inDataset[0].seq, inSubset[0].seq))
        }
    }

    @Test(arguments: StoreEngine.available) func anImportThatChangesExistingFilesRecordsChangedRangesBesideItsAddedOne(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let existing = try await store.items(datasetID: dataset.id, range: 0..<dataset.count).map(\.file)
            let before = try await Self.revisions(store)
            let cursor = try await store.changeCursor(datasetID: dataset.id)
            let newFile = try await store.performImport(projectID: "coco-dataset", datasetName: "Default") { writer in
                // Positions 2 and 3 are adjacent: one range. Position 7 is another.
                for position in [2, 3, 7] {
                    try writer.insertInstance(
                        NewInstance(fileID: existing[position].id, labelID: nil, kind: .global, bbox: nil))
                }
                let id = try writer.insertFile(NewFile(type: .image, name: "new", media: Media()))
                try writer.append(fileID: id)
                try writer.insertInstance(NewInstance(fileID: id, labelID: nil, kind: .global, bbox: nil))
                return id
            }
            let changes = try await store.changes(datasetID: dataset.id, after: cursor, limit: 10).changes
            #expect(changes.map(\.kind) == [.added, .changed, .changed])
            #expect(changes.map(\.positions) == [dataset.count..<(dataset.count + 1), 2..<4, 7..<8])
            let after = try await Self.revisions(store)
            #expect(after[newFile] == changes[0].seq)
            #expect(after[existing[2].id] == changes[1].seq && after[existing[3].id] == changes[1].seq)
            #expect(after[existing[7].id] == changes[2].seq)
            let untouched = Set(existing.map(\.id)).subtracting([existing[2].id, existing[3].id, existing[7].id])
            #expect(untouched.allSatisfy { after[$0] == before[$0] })
        }
    }

    @Test(arguments: StoreEngine.available) func renamingAnExistingLabelChangesTheItemsThatCarryIt(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            let person = try #require(try await store.labels(projectID: "coco-dataset").first { $0.name == "person" })
            // One file without a person: it must keep its revision.
            let spared = try #require(items.first { !$0.instances.isEmpty })
            for instance in spared.instances { try await store.deleteInstance(id: instance.id) }
            let before = try await Self.revisions(store)
            let cursor = try await store.changeCursor(datasetID: dataset.id)

            try await store.performImport(projectID: "coco-dataset", datasetName: "Default") { writer in
                try writer.updateLabel(id: person.id, with: NewLabel(name: "human"))
            }
            let changes = try await store.changes(datasetID: dataset.id, after: cursor, limit: 10).changes
            let carriers = items.filter { $0.file.id != spared.file.id && !$0.instances.isEmpty }.map(\.position)
            #expect(!carriers.isEmpty)
            #expect(changes.allSatisfy { $0.kind == .changed })
            #expect(Set(changes.flatMap(\.positions)) == Set(carriers))
            let after = try await Self.revisions(store)
            #expect(after[spared.file.id] == before[spared.file.id])
            for position in carriers { #expect(after[items[position].file.id] != before[items[position].file.id]) }
            #expect(try await store.items(datasetID: dataset.id, range: carriers[0]..<(carriers[0] + 1))[0]
                .instances.allSatisfy { $0.label == "human" })
        }
    }

    @Test func aSecondStoreOnTheSameFileSeesTheFeed() async throws {
        try await withTemporaryDirectory { directory in
            let writer = try SQLiteStore(directory: directory)
            let dataset = try await writer.importSample()
            let reader = try SQLiteStore(directory: directory)
            let file = try await writer.items(datasetID: dataset.id, range: 0..<1)[0].file
            let cursor = try await reader.changeCursor(datasetID: dataset.id)
            _ = try await writer.addInstance(Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil))
            let page = try await reader.changes(datasetID: dataset.id, after: cursor, limit: 10)
            #expect(page.changes.map(\.positions) == [0..<1])
        }
    }
}

/// `ChangeNotifier`: wake-ups of waiters in this process. Each test has a time limit far
/// above what it needs, so a missed wake-up fails instead of hanging the run.
@Suite(.timeLimit(.minutes(5))) struct ChangeNotifierTests {
    @Test(arguments: StoreEngine.available) func aCommitWakesAWaiterOfItsDataset(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            let notifier = store.changeNotifier
            let mark = notifier.mark()
            async let woken: Bool = notifier.wait(for: dataset.id, after: mark, timeout: .seconds(3600))
            _ = try await store.addInstance(Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil))
            #expect(await woken)
        }
    }

    @Test func aNotificationBeforeTheWaitIsNotMissed() async {
        let notifier = ChangeNotifier()
        let mark = notifier.mark()
        notifier.notify(datasetIDs: [7])
        await notifier.wait(for: 7, after: mark, timeout: .seconds(3600))
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let notifier = ChangeNotifier()
        let waiter = Task { await notifier.wait(for: 1, after: notifier.mark(), timeout: .seconds(3600)) }
        waiter.cancel()
        await waiter.value
    }
}
