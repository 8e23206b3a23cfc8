import Foundation
import GRDB

/// A backup of an embedded store: a directory with `sluice.sqlite`, a copy made by SQLite's
/// online backup API, and `media/`, the blobs that copy's files reference in the store's
/// content-addressed layout (docs/backup.md).
///
/// The calls block on file I/O for as long as they run: call them from a thread or task that
/// has nothing else to do (the `sluice backup` and `sluice restore` commands). They honour
/// task cancellation between blobs.
public struct StoreBackup: Sendable {
    /// The backup's directory.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    static let databaseName = "sluice.sqlite"
    static let mediaName = "media"

    var databasePath: String { directory.appendingPathComponent(Self.databaseName).path }

    /// Backs up the store in `storeDirectory` into `out`, which must not exist or be empty.
    ///
    /// A server may serve and write the store meanwhile: the database is copied in one step of
    /// the online backup API inside one read transaction, so the copy is the store as of one
    /// commit (the summary's `clock`). Then every blob a file of the copy references is linked
    /// or copied and its hash checked. Blobs are never deleted or rewritten, so each one a
    /// committed file row names is there to copy. Everything is written to a directory beside
    /// `out` and renamed to `out` at the end: a failed or interrupted backup leaves no `out`.
    ///
    /// - Throws: `BackupError` naming the path or blob at fault (`.notEmpty`, `.noDatabase`,
    ///   `.missingMedia`, `.corruptMedia`, …), or a GRDB `DatabaseError`.
    public static func make(
        of storeDirectory: URL, into out: URL, transfer: MediaTransfer = .linkOrCopy,
        progress: (BackupProgress) -> Void = { _ in }
    ) throws -> BackupSummary {
        let started = ContinuousClock.now
        let sourcePath = storeDirectory.appendingPathComponent(databaseName).path
        guard FileManager.default.fileExists(atPath: sourcePath) else { throw BackupError.noDatabase(path: sourcePath) }
        let staged = try StagedDirectory(target: out)
        do {
            var configuration = Configuration()
            // A server's write transaction holds the write lock, not readers: this only waits
            // for a checkpoint or a schema change.
            configuration.busyMode = .timeout(30)
            let source = try DatabaseQueue(path: sourcePath, configuration: configuration)
            defer { try? source.close() }
            let summary = try copy(
                database: source, mediaRoot: storeDirectory.appendingPathComponent(mediaName), into: staged.staging,
                transfer: transfer, started: started, progress: progress)
            try staged.commit()
            return summary
        } catch {
            staged.discard()
            throw error
        }
    }

    /// Checks the backup without writing anything: the database passes `PRAGMA
    /// integrity_check` and every blob its files reference is present under `media/`. The
    /// blobs' hashes are checked as `restore` reads them.
    ///
    /// - Throws: `BackupError.noDatabase`, `.damagedDatabase`, `.malformedReference` or
    ///   `.missingMedia` naming the path or blob.
    public func verify() throws {
        guard FileManager.default.fileExists(atPath: databasePath) else { throw BackupError.noDatabase(path: databasePath) }
        let queue = try Self.open(databasePath)
        defer { try? queue.close() }
        try queue.read { db in
            let problems: [String]
            do {
                problems = try String.fetchAll(db, sql: "PRAGMA integrity_check(10)")
            } catch let error as DatabaseError {
                throw BackupError.damagedDatabase(path: databasePath, problems: [error.message ?? "\(error)"])
            }
            guard problems == ["ok"] else { throw BackupError.damagedDatabase(path: databasePath, problems: problems) }
            let media = directory.appendingPathComponent(Self.mediaName)
            let references = try Self.mediaReferences(db)
            while let sha256 = try references.next() {
                let path = media.appendingPathComponent(MediaStore.relativePath(for: sha256)).path
                guard FileManager.default.fileExists(atPath: path) else {
                    throw BackupError.missingMedia(sha256: sha256, path: path)
                }
            }
        }
    }

    /// Restores the backup into `storeDirectory`, which must not exist or be empty: checks it
    /// (`verify`), then copies the database with the online backup API and links or copies
    /// the blobs, checking each one's hash, into a directory beside `storeDirectory` that is
    /// renamed to it at the end. Nothing appears at `storeDirectory` unless all of it passed.
    ///
    /// - Throws: `BackupError` naming the path or blob at fault (`.notEmpty` for a store
    ///   directory that holds something, `.corruptMedia` for a blob whose bytes changed, …).
    public func restore(
        into storeDirectory: URL, transfer: MediaTransfer = .linkOrCopy, progress: (BackupProgress) -> Void = { _ in }
    ) throws -> BackupSummary {
        let started = ContinuousClock.now
        try StagedDirectory.requireEmptyOrAbsent(storeDirectory.standardizedFileURL)
        try verify()
        let staged = try StagedDirectory(target: storeDirectory)
        do {
            let source = try Self.open(databasePath)
            defer { try? source.close() }
            let summary = try Self.copy(
                database: source, mediaRoot: directory.appendingPathComponent(Self.mediaName), into: staged.staging,
                transfer: transfer, started: started, progress: progress)
            try staged.commit()
            return summary
        } catch {
            staged.discard()
            throw error
        }
    }

    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Copies `database` into `directory/sluice.sqlite`, then the blobs the copy references
    /// from `mediaRoot` into `directory/media`. The blobs are listed from the copy, never the
    /// source: they are exactly what the copied rows need, whatever was written since.
    static func copy(
        database: DatabaseQueue, mediaRoot: URL, into directory: URL, transfer: MediaTransfer,
        started: ContinuousClock.Instant, progress: (BackupProgress) -> Void
    ) throws -> BackupSummary {
        let path = directory.appendingPathComponent(databaseName).path
        let copy = try DatabaseQueue(path: path)
        defer { try? copy.close() }
        // All pages in one step, inside the read transaction GRDB opens on the source: one
        // consistent snapshot, and writers in WAL mode go on meanwhile. In steps, each write
        // to the source would restart the copy.
        try database.backup(to: copy)
        // A single file with no -wal beside it; the store turns WAL on again when it opens it.
        try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }

        let destination = directory.appendingPathComponent(mediaName)
        do {
            try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        } catch {
            throw BackupError.unwritable(path: destination.path, reason: error.localizedDescription)
        }
        return try copy.read { db in
            let files = try Int.fetchOne(db, sql: "SELECT count(*) FROM files") ?? 0
            let clock = try db.tableExists("store_clock") ? Int64.fetchOne(db, sql: "SELECT seq FROM store_clock") ?? 0 : 0
            let total = try Int.fetchOne(db, sql: "SELECT count(DISTINCT sha256) FROM files WHERE sha256 IS NOT NULL") ?? 0
            var copier = MediaCopier(from: mediaRoot, to: destination, transfer: transfer)
            var report = ProgressReport(total: total)
            var linked = 0
            var bytes: Int64 = 0
            let references = try mediaReferences(db)
            while let sha256 = try references.next() {
                if Task.isCancelled { throw CancellationError() }
                let moved = try copier.move(sha256)
                bytes += moved.bytes
                if moved.linked { linked += 1 }
                if let line = report.add(bytes: moved.bytes) { progress(line) }
            }
            if total == 0 { progress(report.current) }
            let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber
            return BackupSummary(
                files: files, media: total, linked: linked, databaseBytes: size?.int64Value ?? 0, mediaBytes: bytes,
                clock: clock, seconds: (ContinuousClock.now - started).seconds)
        }
    }

    /// Every distinct `files.sha256`, in order, each checked to be a SHA-256 before it is
    /// used in a path (a value such as `../..` must not reach outside the media root).
    static func mediaReferences(_ db: GRDB.Database) throws -> some Cursor<String> {
        try Row.fetchCursor(
            db, sql: "SELECT sha256, min(id) FROM files WHERE sha256 IS NOT NULL GROUP BY sha256 ORDER BY sha256"
        ).map { row in
            let sha256: String = row[0]
            guard MediaStore.isSHA256(sha256) else { throw BackupError.malformedReference(fileID: row[1], value: sha256) }
            return sha256
        }
    }
}

/// When to report: after the first blob, the last, and at most five times a second between
/// (a line per blob would flood a log).
private struct ProgressReport {
    let started = ContinuousClock.now
    var lastReport: ContinuousClock.Instant?
    var current: BackupProgress

    init(total: Int) {
        current = BackupProgress(done: 0, total: total, bytes: 0, elapsed: 0)
    }

    /// Counts one more blob; returns the progress when it is time to report it.
    mutating func add(bytes: Int64) -> BackupProgress? {
        current.done += 1
        current.bytes += bytes
        let now = ContinuousClock.now
        current.elapsed = (now - started).seconds
        if let lastReport, now - lastReport < .milliseconds(200), current.done < current.total { return nil }
        lastReport = now
        return current
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
