import Foundation
import SluiceStore

/// How far an import has come, for progress lines: counts, rate and time left.
public struct ImportProgress: Sendable, Equatable {
    public var bytesRead: Int
    public var totalBytes: Int
    public var files: Int
    public var instances: Int
    /// Seconds since the import started.
    public var elapsed: Double
    /// Every record is written; the store is building indexes and counts and committing,
    /// which a large import spends a quarter of its time on with no bytes left to count.
    public var finishing: Bool

    public init(bytesRead: Int, totalBytes: Int, files: Int, instances: Int, elapsed: Double, finishing: Bool = false) {
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.files = files
        self.instances = instances
        self.elapsed = elapsed
        self.finishing = finishing
    }

    /// Files plus instances per second.
    public var rate: Double { elapsed > 0 ? Double(files + instances) / elapsed : 0 }

    /// Seconds left, extrapolated from the bytes read so far; nil before there is a basis.
    public var secondsLeft: Double? {
        guard bytesRead > 0, totalBytes > bytesRead, elapsed > 0 else { return bytesRead >= totalBytes ? 0 : nil }
        return elapsed * Double(totalBytes - bytesRead) / Double(bytesRead)
    }

    /// One line: `1,204 files, 8,311 instances · 95,210/s · 41% · ETA 0:12`; once finishing,
    /// `… · 100% · indexing, counting labels, committing`.
    public var line: String {
        let percent = totalBytes > 0 ? min(100, bytesRead * 100 / totalBytes) : 0
        let tail = finishing ? "indexing, counting labels, committing" : "ETA \(secondsLeft.map { Self.clock($0) } ?? "?")"
        return "\(Self.grouped(files)) files, \(Self.grouped(instances)) instances · "
            + "\(Self.grouped(Int(rate)))/s · \(percent)% · \(tail)"
    }

    static func grouped(_ n: Int) -> String { ProgressText.grouped(n) }
    static func clock(_ seconds: Double) -> String { ProgressText.clock(seconds) }
}

/// What an import wrote.
public struct ImportSummary: Sendable, Equatable, Codable {
    public var datasetID: Int64
    public var files: Int
    public var instances: Int
    public var labels: Int
    /// Media files copied into the content-addressed store.
    public var media: Int
    public var seconds: Double

    public init(datasetID: Int64, files: Int, instances: Int, labels: Int, media: Int, seconds: Double) {
        self.datasetID = datasetID
        self.files = files
        self.instances = instances
        self.labels = labels
        self.media = media
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case files, instances, labels, media, seconds
        case datasetID = "dataset_id"
    }
}

extension Store {
    /// `performImport` with the summary's `seconds` taken over the whole transaction, commit
    /// included: what a user waits for, and what the CLI's rate is of. The importers' own
    /// clocks stop before the commit, which on a large import is many seconds of index work.
    func timedImport(
        projectID: String, datasetName: String, _ body: @escaping @Sendable (any ImportWriter) throws -> ImportSummary
    ) async throws -> ImportSummary {
        let started = ContinuousClock.now
        var summary = try await performImport(projectID: projectID, datasetName: datasetName, body)
        let elapsed = ContinuousClock.now - started
        summary.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return summary
    }
}
