import Foundation
import SluiceImport
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// The folder importers as the import route runs them: an import whose client went away stops
/// before its next file and keeps nothing; the same import let run lands whole.
@Suite struct FolderImportTests {
    static func source(_ format: FolderImport.Format, in directory: URL) throws -> String {
        switch format {
        case .voc: return Fixtures.path("voc/datumaro-voc1")
        case .yolo: return Fixtures.path("yolo/datumaro-yolo/strict")
        case .labelme: return Fixtures.path("labelme-xml/datumaro-labelme")
        case .cvat: return Fixtures.path("cvat/datumaro-images/export_task")
        case .doccano:
            let path = directory.appendingPathComponent("all.jsonl")
            try Data(#"{"text": "Ada met Bob", "label": [[0, 3, "PER"], [8, 11, "PER"]]}"#.utf8 + [10]).write(to: path)
            return path.path
        }
    }

    @Test(arguments: FolderImport.Format.allCases)
    func anImportWhoseClientWentAwayKeepsNothing(format: FolderImport.Format) async throws {
        try await withTemporaryStore { store, directory in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            let path = try Self.source(format, in: directory)
            let error = await #expect(throws: ImportError.self) {
                _ = try await FolderImport.run(
                    format, path: path, images: nil, video: nil, store: store, project: "p", dataset: "gone",
                    progress: { _ in }, isCancelled: { true })
            }
            if case .cancelled = error {} else { Issue.record("stopped by its cancellation, not by \(String(describing: error))") }
            let gone = try await store.dataset(projectID: "p", name: "gone")
            #expect(gone == nil || gone?.count == 0, "nothing of a cancelled import is kept")
            let summary = try await FolderImport.run(
                format, path: path, images: nil, video: nil, store: store, project: "p", dataset: "kept",
                progress: { _ in }, isCancelled: { false })
            #expect(summary.files > 0)
            #expect(try await store.dataset(projectID: "p", name: "kept")?.count == summary.files)
        }
    }
}
