import Foundation
import PostgresNIO
import SluiceModel
import SluiceQuery
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// A slice on PostgreSQL reads label_counts and dataset_files from covering indexes, and a
/// large import leaves their pages marked visible, so that reading those indexes needs no
/// table page: what brings a rare label's slice of a million files from ~250 ms to ~60 ms.
@Suite(.enabled(if: StoreEngine.available.contains(.postgres)))
struct PostgresSliceIndexTests {
    @Test func aLargeImportLeavesTheSliceIndexesCoveringAndTheirTablesVacuumed() async throws {
        try await withTemporaryStore(.postgres) { store, directory in
            let postgres = try #require(store as? PostgresStore)
            let dataset = try await store.importGenerated(
                files: PostgresStore.analyzeAfterFiles, instancesPerFile: 2, labels: 10, in: directory)

            let definitions = try await postgres.read { db in
                try await db.rows(
                    """
                    SELECT indexname, indexdef FROM pg_indexes
                    WHERE schemaname = current_schema() AND indexname IN ('label_counts_by_label', 'dataset_files_live')
                    """
                ).map { (try $0.at(0, as: String.self), try $0.at(1, as: String.self)) }
            }
            let byName = Dictionary(uniqueKeysWithValues: definitions)
            #expect(byName["label_counts_by_label"]?.contains("(label_id, count) INCLUDE (file_id)") == true)
            let live = try #require(byName["dataset_files_live"])
            #expect(live.contains("UNIQUE") && live.contains("INCLUDE (\"position\")") && live.contains("removed_at IS NULL"))

            let vacuumed = try await postgres.read { db in
                try await db.values(
                    """
                    SELECT relname::text FROM pg_stat_user_tables
                    WHERE schemaname = current_schema() AND last_vacuum IS NOT NULL ORDER BY relname
                    """, as: String.self)
            }
            #expect(Set(vacuumed).isSuperset(of: ["dataset_files", "files", "label_counts"]))

            // The unique index still says a file is once among a dataset's live positions.
            let file = try #require(try await store.storedItems(datasetID: dataset.id, range: 0..<1).first).file
            do {
                try await postgres.write { db in
                    try await db.execute(
                        "INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (\(dataset.id), \(Int64(dataset.count)), \(file.id))")
                }
                Issue.record("a second live place of one file in a dataset was accepted")
            } catch {
                #expect(String(reflecting: error).contains("dataset_files_live"), "\(String(reflecting: error))")
            }
        }
    }

    /// Vacuumed is not enough: VACUUM marks the import's pages all-visible (so a slice reads
    /// no table page beside the index) only once their rows' commit is flushed. The test
    /// cluster commits asynchronously, as many bulk-loading servers do, which left every page
    /// unmarked; an import commits synchronously whatever the server's setting. (Whether
    /// VACUUM then marks them depends on every other session of the database holding no older
    /// snapshot, which the tests running beside this one do not promise: bench/engines.py
    /// shows it.)
    @Test func anImportCommitsSynchronouslyWhateverTheServersSetting() async throws {
        try await withTemporaryStore(.postgres) { store, _ in
            let postgres = try #require(store as? PostgresStore)
            let server = try await postgres.read { db in try await db.value("SHOW synchronous_commit", as: String.self) }
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            let inImport = try await store.performImport(projectID: "p", datasetName: "D") { writer in
                try (writer as! PostgresImportWriter).wait { db in
                    try await db.value("SHOW synchronous_commit", as: String.self)!
                }
            }
            #expect(inImport == "on", "the server's own setting: \(server ?? "none")")
        }
    }
}
