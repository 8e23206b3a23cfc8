import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceImport

/// Exports hold the files a dataset holds: removed positions are left out (docs/writes.md).
@Suite struct RemovedExportTests {
    @Test func exportsLeaveRemovedFilesOut() async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let items = try await store.items(datasetID: dataset.id, range: 0..<9)
            let after = try await store.removeFiles(datasetID: dataset.id, fileIDs: [items[0].file.id, items[8].file.id])
            let source = ExportSource(store: store, dataset: after, pageSize: 4)
            #expect(source.count == 7)
            var exported: [Int] = []
            try await source.forEachPage { page in exported += page.map(\.position) }
            #expect(exported == Array(1..<8))
        }
    }

    @Test func aSluiceJSONExportCountsWhatItHolds() async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let items = try await store.items(datasetID: dataset.id, range: 0..<9)
            let after = try await store.removeFiles(datasetID: dataset.id, fileIDs: [items[4].file.id])
            var bytes: [UInt8] = []
            _ = try await DatasetExporter(source: ExportSource(store: store, dataset: after), format: .sluiceJSON)
                .write { bytes += $0 }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains("\"count\":8"))
            #expect(!text.contains("\"name\":\"\(items[4].file.name)\""))
        }
    }
}
