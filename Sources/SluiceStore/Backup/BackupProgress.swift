import Foundation

/// How far a backup or restore has come through its media: count, bytes, rate and time left.
public struct BackupProgress: Sendable, Equatable {
    /// Blobs copied or linked (and checked) so far.
    public var done: Int
    /// Blobs the database references.
    public var total: Int
    /// Bytes of the blobs done.
    public var bytes: Int64
    /// Seconds since the media phase started.
    public var elapsed: Double

    public init(done: Int, total: Int, bytes: Int64, elapsed: Double) {
        self.done = done
        self.total = total
        self.bytes = bytes
        self.elapsed = elapsed
    }

    /// Blobs per second.
    public var rate: Double { elapsed > 0 ? Double(done) / elapsed : 0 }

    /// Seconds left at the rate so far; nil before there is one.
    public var secondsLeft: Double? {
        guard done < total else { return 0 }
        return rate > 0 ? Double(total - done) / rate : nil
    }

    /// One line: `1,204/5,000 media · 310.2 MB · 95/s · ETA 0:40`.
    public var line: String {
        let left = secondsLeft.map { Self.clock($0) } ?? "?"
        return "\(Self.grouped(done))/\(Self.grouped(total)) media · "
            + String(format: "%.1f MB", Double(bytes) / 1_000_000) + " · \(Self.grouped(Int(rate)))/s · ETA \(left)"
    }

    static func grouped(_ n: Int) -> String { ProgressText.grouped(n) }
    static func clock(_ seconds: Double) -> String { ProgressText.clock(seconds) }
}

/// What a backup or restore wrote.
public struct BackupSummary: Sendable, Equatable {
    /// Rows of the `files` table in the copied database.
    public var files: Int
    /// Distinct media blobs those files reference, all copied or linked and checked.
    public var media: Int
    /// How many of `media` are hard links rather than copies.
    public var linked: Int
    /// Size of the copied database file.
    public var databaseBytes: Int64
    /// Bytes of the media blobs.
    public var mediaBytes: Int64
    /// The store clock the copy reads at: every write committed up to it, none after
    /// (docs/versions.md).
    public var clock: Int64
    public var seconds: Double

    /// Database and media bytes together.
    public var bytes: Int64 { databaseBytes + mediaBytes }
}
