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

/// An export of a pinned version is the same bytes whatever is written later (issue 14's bar,
/// found by bench/writes.py: the header showed the dataset's current version).
@Suite struct PinnedExportTests {
    @Test func anExportAtAVersionIsTheSameBytesAfterLaterWrites() async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let pinned = try await store.versionPoint(datasetID: dataset.id, version: dataset.version)!
            func export() async throws -> [UInt8] {
                var bytes: [UInt8] = []
                let now = try await store.dataset(id: dataset.id)!
                _ = try await DatasetExporter(source: ExportSource(store: store, dataset: now, version: pinned), format: .sluiceJSON)
                    .write { bytes += $0 }
                return bytes
            }
            let before = try await export()
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            _ = try await store.editInstances(fileID: file.id, .replaceAll([]), expectedRevision: nil, createLabels: false)
            _ = try await store.removeFiles(datasetID: dataset.id, fileIDs: [file.id])
            #expect(try await export() == before)
        }
    }
}
