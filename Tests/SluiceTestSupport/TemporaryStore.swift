import Foundation
import SluiceImport
import SluiceModel
import SluiceStore

/// A real SQLite store in a fresh temporary directory, removed by `withTemporaryStore`.
public func withTemporaryStore<T>(_ body: (SQLiteStore, URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteStore(directory: directory)
    return try await body(store, directory)
}

/// A temporary directory, removed after `body`.
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("sluice-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

extension Store {
    /// Imports the quickstart sample (9 photographs, 24 instances) into `coco-dataset/Default`.
    @discardableResult
    public func importSample(projectID: String = "coco-dataset", dataset: String = "Default") async throws -> Dataset {
        _ = try await ensureProject(Project(id: projectID, name: "COCO sample"))
        for set in Fixtures.sampleSets {
            _ = try await COCOImporter(imagesDirectory: set.imagesPath)
                .importFile(at: set.annotationsPath, into: self, projectID: projectID, datasetName: dataset)
        }
        return try await self.dataset(projectID: projectID, name: dataset)!
    }

    /// Generates and imports a synthetic dataset into `project/dataset`.
    @discardableResult
    public func importGenerated(
        files: Int, instancesPerFile: Int, labels: Int = 20, projectID: String = "generated",
        dataset: String = "Default", in directory: URL
    ) async throws -> Dataset {
        let out = directory.appendingPathComponent("generated-\(UUID().uuidString)").path
        let summary = try SyntheticCOCO(files: files, instancesPerFile: instancesPerFile, labels: labels)
            .write(to: out)
        _ = try await ensureProject(Project(id: projectID, name: projectID))
        _ = try await COCOImporter().importFile(
            at: summary.annotationsPath, into: self, projectID: projectID, datasetName: dataset)
        try? FileManager.default.removeItem(atPath: out)
        return try await self.dataset(projectID: projectID, name: dataset)!
    }
}

extension Store {
    /// A stored editor key of `projectID`: its `client_id:secret` token, for tests that write.
    public func editorToken(projectID: String = "coco-dataset") async throws -> String {
        let key = NewAPIKey.generate(projectID: projectID, role: .editor)
        try await insertAPIKey(key.stored)
        return key.token
    }
}

/// The storage engines a behavioural test runs against: SQLite always; PostgreSQL when the
/// test script started a cluster (`SLUICE_TEST_POSTGRES`, scripts/postgres.sh), and as a
/// failure, not a skip, when `SLUICE_REQUIRE_POSTGRES=1` says it must have.
public enum StoreEngine: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    public static var available: [StoreEngine] {
        let environment = ProcessInfo.processInfo.environment
        let required = environment["SLUICE_REQUIRE_POSTGRES"] == "1"
        return environment["SLUICE_TEST_POSTGRES"] != nil || required ? [.sqlite, .postgres] : [.sqlite]
    }
}

public struct MissingTestPostgres: Error, CustomStringConvertible {
    public var description: String {
        "SLUICE_REQUIRE_POSTGRES=1 but SLUICE_TEST_POSTGRES is not set: run the tests through scripts/test.sh"
    }
}

/// The URL of a fresh schema in the test cluster's database, for tests that open several
/// stores (servers) on one database; the schema is dropped after `body`.
public func withTemporaryPostgresURL<T>(_ body: (String, URL) async throws -> T) async throws -> T {
    guard let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES"] else { throw MissingTestPostgres() }
    let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    let schemaURL = url + (url.contains("?") ? "&" : "?") + "schema=" + schema
    return try await withTemporaryDirectory { directory in
        @Sendable func drop() async {
            if let store = try? await PostgresStore.open(
                url: schemaURL, media: try MediaStore(root: directory.appendingPathComponent("media")))
            {
                try? await store.dropSchema()
                store.close()
            }
        }
        do {
            let result = try await body(schemaURL, directory)
            await drop()
            return result
        } catch {
            await drop()
            throw error
        }
    }
}

/// A real store of `engine` that no other test sees, removed after `body`: a SQLite file in a
/// temporary directory, or a schema of its own in the test cluster's database (its media in a
/// temporary directory).
public func withTemporaryStore<T>(_ engine: StoreEngine, _ body: (any Store, URL) async throws -> T) async throws -> T {
    switch engine {
    case .sqlite:
        return try await withTemporaryStore { store, directory in try await body(store, directory) }
    case .postgres:
        guard let url = ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES"] else { throw MissingTestPostgres() }
        return try await withTemporaryDirectory { directory in
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let separator = url.contains("?") ? "&" : "?"
            let store = try await PostgresStore.open(
                url: url + separator + "schema=" + schema, media: try MediaStore(root: directory.appendingPathComponent("media")),
                maximumConnections: 4)
            do {
                let result = try await body(store, directory)
                try await store.dropSchema()
                store.close()
                return result
            } catch {
                try? await store.dropSchema()
                store.close()
                throw error
            }
        }
    }
}
