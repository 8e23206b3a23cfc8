import Foundation
import GRDB
import SluiceModel
import SluiceQuery
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// Tags on datasets (issue 20): a set of names per dataset that queries test as
/// `dataset.tag`; writing them moves no item, version or change feed, only the project's
/// tag revision.
@Suite struct DatasetTagStoreTests {
    func json(_ items: [StoredItem]) -> [[UInt8]] {
        items.map { item in
            var out = JSONOutput()
            out.item(item)
            return out.bytes
        }
    }

    @Test(arguments: StoreEngine.available) func tagsAreAddedOnceListedInByteOrderAndRemoved(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            #expect(try await store.datasetTags(datasetID: dataset.id) == [])
            #expect(try await store.addDatasetTags(datasetID: dataset.id, ["reviewed", "Night", "a/b c"]) == ["Night", "a/b c", "reviewed"])
            #expect(try await store.addDatasetTags(datasetID: dataset.id, ["reviewed", "été"]) == ["Night", "a/b c", "reviewed", "été"],
                    "a tag it has stays once; byte order puts UTF-8 after ASCII")
            #expect(try await store.removeDatasetTag(datasetID: dataset.id, "Night") == ["a/b c", "reviewed", "été"])
            #expect(try await store.datasetTags(datasetID: dataset.id) == ["a/b c", "reviewed", "été"])
            let other = try await store.ensureDataset(projectID: dataset.projectID, name: "other")
            #expect(try await store.datasetTags(datasetID: other.id) == [], "tags belong to one dataset")
        }
    }

    @Test(arguments: StoreEngine.available) func aTagWriteMovesNoItemVersionOrChangeButTheTagRevision(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let items = json(try await store.storedItems(datasetID: dataset.id, range: 0..<9))
            let cursor = try await store.changeCursor(datasetID: dataset.id)
            #expect(try await store.datasetTagsRevision(projectID: dataset.projectID) == 0)
            _ = try await store.addDatasetTags(datasetID: dataset.id, ["reviewed"])
            #expect(try await store.datasetTagsRevision(projectID: dataset.projectID) == 1)
            _ = try await store.addDatasetTags(datasetID: dataset.id, ["reviewed"])
            #expect(try await store.datasetTagsRevision(projectID: dataset.projectID) == 1, "nothing new, nothing to recompute")
            _ = try await store.removeDatasetTag(datasetID: dataset.id, "reviewed")
            #expect(try await store.datasetTagsRevision(projectID: dataset.projectID) == 2)
            #expect(try await store.datasetTagsRevision(projectID: "another") == 0, "revisions are per project")
            let after = try #require(try await store.dataset(id: dataset.id))
            #expect(after.version == dataset.version)
            #expect(json(try await store.storedItems(datasetID: dataset.id, range: 0..<9)) == items, "items are byte for byte the same")
            #expect(try await store.changes(datasetID: dataset.id, after: cursor, limit: 100).changes.isEmpty)
        }
    }

    /// Every refused tag names its place in the request, and nothing of the request is kept.
    @Test(arguments: [
        (["ok", ""], "tags[1]", "1 to 256 bytes"),
        ([String(repeating: "é", count: 129)], "tags[0]", "this one has 258"),
        (["ok", "fine", "new\nline"], "tags[2]", "U+000A"),
        (["tab\there"], "tags[0]", "U+0009"),
        (["del\u{7F}"], "tags[0]", "U+007F"),
    ])
    func badTagsAreRefusedByField(tags: [String], field: String, message: String) async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            do {
                _ = try await store.addDatasetTags(datasetID: dataset.id, tags)
                Issue.record("\(tags) was accepted")
            } catch StoreError.invalidField(let error) {
                #expect(error.path == field)
                #expect(error.message.contains(message), "\(error.message)")
            }
            #expect(try await store.datasetTags(datasetID: dataset.id) == [])
            #expect(try await store.datasetTagsRevision(projectID: dataset.projectID) == 0)
        }
    }

    @Test(arguments: StoreEngine.available) func aDatasetHoldsAtMostAThousandTags(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let first = (0..<990).map { "t\($0)" }
            #expect(try await store.addDatasetTags(datasetID: dataset.id, first).count == 990)
            do {
                _ = try await store.addDatasetTags(datasetID: dataset.id, (0..<20).map { "u\($0)" } + ["t1"])
                Issue.record("the 1,010th tag was accepted")
            } catch StoreError.invalidField(let error) {
                #expect(error.path == "tags")
                #expect(error.message.contains("at most 1000 tags; it has 990, this adds 20"), "\(error.message)")
            }
            #expect(try await store.datasetTags(datasetID: dataset.id).count == 990, "nothing of the refused request")
            #expect(try await store.addDatasetTags(datasetID: dataset.id, (0..<10).map { "u\($0)" } + ["t2"]).count == 1000)
        }
    }

    @Test(arguments: StoreEngine.available) func longestTagAndUnknownNamesAnswerAsDocumented(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let longest = String(repeating: "é", count: 128)
            #expect(try await store.addDatasetTags(datasetID: dataset.id, [longest]) == [longest], "256 bytes is allowed")
            await #expect(throws: StoreError.notFound("dataset \(dataset.id) has no tag 'nope'")) {
                try await store.removeDatasetTag(datasetID: dataset.id, "nope")
            }
            await #expect(throws: StoreError.notFound("no dataset with id 999")) {
                try await store.addDatasetTags(datasetID: 999, ["x"])
            }
            await #expect(throws: StoreError.notFound("no dataset with id 999")) {
                try await store.datasetTags(datasetID: 999)
            }
        }
    }

    @Test func theMigrationIsTheLastAndNamedAsMergesExpect() throws {
        #expect(Migrations.migrator.migrations.last == "v8-dataset-tags")
    }

    /// A pinned version's slice is the reference evaluator's scan: `dataset.tag` sees the
    /// dataset's tags as they are now (tags are not versioned), as the SQL of now does.
    @Test(arguments: StoreEngine.available) func tagQueriesAgreeAtTheCurrentAndAPinnedVersion(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let schema = QuerySchema(labels: try await store.labels(projectID: dataset.projectID), attributeGroups: [])
            let query = try QueryParser.parse("dataset_tag.tag in ['reviewed'] and labels.person > 0").checked(against: schema)
            let version = try #require(try await store.versionPoint(datasetID: dataset.id, version: dataset.version))
            #expect(try await store.matchingPositions(datasetID: dataset.id, query: query) == [])
            _ = try await store.addDatasetTags(datasetID: dataset.id, ["reviewed"])
            let now = try await store.matchingPositions(datasetID: dataset.id, query: query)
            let items = try await store.items(datasetID: dataset.id, range: 0..<9)
            #expect(now == items.filter { $0.instances.contains { $0.label == "person" } }.map(\.position))
            #expect(!now.isEmpty)
            let pinned = try await store.matchingPositions(
                datasetID: dataset.id, datasetName: dataset.name, query: query, at: version)
            #expect(pinned == now)
        }
    }
}
