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

extension SQLiteStore {
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

extension SQLiteStore {
    /// A stored editor key of `projectID`: its `client_id:secret` token, for tests that write.
    public func editorToken(projectID: String = "coco-dataset") async throws -> String {
        let key = NewAPIKey.generate(projectID: projectID, role: .editor)
        try await insertAPIKey(key.stored)
        return key.token
    }
}
