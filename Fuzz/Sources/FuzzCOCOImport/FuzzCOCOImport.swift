import Dispatch
import Foundation
import SluiceImport
import SluiceModel
import SluiceStore

/// Any bytes as a COCO file, imported into a real store: the import commits whole or is
/// refused with nothing kept, never crashes. Seed it with the fixtures' COCO files.
final class Fixture: @unchecked Sendable {
    // One store for the run (libFuzzer calls from one thread); each input imports into a
    // dataset of its own.
    static let shared = Fixture()
    let store: SQLiteStore
    let directory: URL
    var round = 0

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        store = try! SQLiteStore(directory: directory)
        let store = self.store
        let made = DispatchSemaphore(value: 0)
        Task {
            _ = try! await store.ensureProject(Project(id: "fuzz", name: "fuzz"))
            made.signal()
        }
        made.wait()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCOCOImport(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let fixture = Fixture.shared
    fixture.round += 1
    let path = fixture.directory.appendingPathComponent("input.json").path
    FileManager.default.createFile(atPath: path, contents: Data(bytes: start, count: count))
    let dataset = "d\(fixture.round)"
    let done = DispatchSemaphore(value: 0)
    let outcome = Box()
    Task {
        do {
            let summary = try await COCOImporter().importFile(
                at: path, into: fixture.store, projectID: "fuzz", datasetName: dataset)
            let stored = try await fixture.store.dataset(projectID: "fuzz", name: dataset)
            outcome.failure = stored?.count == summary.files ? nil : "the dataset does not hold what the import reported"
        } catch {
            let stored = try? await fixture.store.dataset(projectID: "fuzz", name: dataset)
            outcome.failure = (stored?.count ?? 0) == 0 ? nil : "a refused import left \(stored!.count) files"
        }
        done.signal()
    }
    done.wait()
    if let failure = outcome.failure { fatalError(failure) }
    return 0
}

final class Box: @unchecked Sendable {
    var failure: String?
}
