import Foundation
import SluiceModel
import SluiceStore

/// Writes a dataset (or a slice of it) as one document in an `ExportFormat`, streaming: pages
/// of items are read in position order and their bytes handed to a sink as they are encoded,
/// so memory holds a page or two, never the document.
public struct DatasetExporter: Sendable {
    public var source: ExportSource
    public var format: ExportFormat
    /// Called about twice a second: `bytesRead`/`totalBytes` count pages' items done out of
    /// all the items the export reads (a COCO export reads every item twice).
    public var progress: (@Sendable (ImportProgress) -> Void)?

    public init(source: ExportSource, format: ExportFormat, progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.source = source
        self.format = format
        self.progress = progress
    }

    /// Writes the document through `sink`, chunk by chunk, and returns what it wrote.
    public func write(to sink: (_ bytes: [UInt8]) async throws -> Void) async throws -> ExportSummary {
        let passes = format == .coco ? 2 : 1
        var tracker = ExportTracker(total: source.count * passes, progress: progress)
        var bytes = 0
        func emit(_ out: JSONOutput) async throws {
            guard !out.bytes.isEmpty else { return }
            bytes += out.bytes.count
            try await sink(out.bytes)
        }
        switch format {
        case .sluiceJSON:
            let writer = SluiceJSONWriter(
                dataset: source.datasetAsRead, labels: try await source.store.labels(projectID: source.dataset.projectID, at: source.version))
            try await emit(writer.header(count: source.count))
            try await source.forEachPage { items in
                var out = JSONOutput(capacity: items.count * 2048)
                writer.items(items, first: tracker.done == 0, into: &out)
                tracker.advance(items, files: true, instances: true)
                try await emit(out)
            }
            try await emit(writer.footer())
        case .coco:
            let writer = try await COCOWriter(source: source)
            // The rate and time left count from the first page: the id checks before it are
            // one aggregate that says nothing about the pace of the pages.
            tracker = ExportTracker(total: source.count * passes, progress: progress)
            try await emit(writer.header())
            var first = true
            try await source.forEachPage { items in
                var out = JSONOutput(capacity: items.count * 256)
                for item in items {
                    try writer.image(item.file, first: first, into: &out)
                    first = false
                }
                tracker.advance(items, files: true, instances: false)
                try await emit(out)
            }
            try await emit(writer.middle())
            first = true
            try await source.forEachPage { items in
                var out = JSONOutput(capacity: items.count * 1024)
                for item in items where !item.instances.isEmpty {
                    let imageID = try writer.imageID(item.file)
                    for instance in item.instances {
                        try writer.annotation(instance, imageID: imageID, first: first, into: &out)
                        first = false
                    }
                }
                tracker.advance(items, files: false, instances: true)
                try await emit(out)
            }
            try await emit(writer.footer())
        }
        tracker.finish()
        return ExportSummary(
            files: tracker.files, instances: tracker.instances, bytes: bytes, seconds: tracker.elapsed)
    }
}

/// Counts what an export has done and reports it, at most twice a second.
/// The progress of an export: items done of the total, reported at most twice a second.
public struct ExportTracker: Sendable {
    let total: Int
    let progress: (@Sendable (ImportProgress) -> Void)?
    var done = 0
    var files = 0
    var instances = 0
    let started = ContinuousClock.now
    var lastReport = ContinuousClock.now

    public init(total: Int, progress: (@Sendable (ImportProgress) -> Void)?) {
        self.total = total
        self.progress = progress
    }

    var elapsed: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    mutating func advance(_ items: [StoredItem], files countFiles: Bool, instances countInstances: Bool) {
        advance(
            items: items.count, files: countFiles ? items.count : 0,
            instances: countInstances ? items.reduce(0) { $0 + $1.instances.count } : 0)
    }

    /// `items` more positions done, holding `files` files and `instances` instances.
    public mutating func advance(items: Int, files: Int, instances: Int) {
        done += items
        self.files += files
        self.instances += instances
        let now = ContinuousClock.now
        guard now - lastReport >= .milliseconds(500) else { return }
        lastReport = now
        report()
    }

    public mutating func finish() { report() }

    private func report() {
        progress?(ImportProgress(bytesRead: done, totalBytes: total, files: files, instances: instances, elapsed: elapsed))
    }
}
