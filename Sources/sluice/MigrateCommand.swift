import ArgumentParser
import Foundation
import SluiceStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Move an embedded store up to PostgreSQL, and check that it reads the same there.",
        discussion: """
            Copies every row of the store in --from-data (projects, datasets, files, labels, \
            instances with their version history, snapshots, the change feed, keys; ids kept) into \
            the PostgreSQL store at --postgres in one transaction, links or copies the media its \
            files reference into --media (without it, the servers use the embedded store's media/ \
            where it is), then verifies: the row count of every table, and the \
            bytes of every dataset's stream now and at each snapshot, read from both stores. The \
            PostgreSQL store must hold no project yet; stop the servers of --from-data first \
            (the copy reads it as of one commit, and later writes there would not move). See \
            docs/deployment.md.

              sluice migrate --from-data ~/sluice-data --postgres postgres://sluice@db/sluice --media /mnt/sluice-media
            """)

    @Option(help: "Directory of the embedded store to copy.")
    var fromData: String

    @Option(help: "PostgreSQL URL of the store to fill (postgres://user:password@host:5432/database).")
    var postgres: String

    @Option(help: "The media directory of the PostgreSQL store, which its servers share (default: the embedded store's own media/, used in place).")
    var media: String?

    func run() async throws {
        let sourcePath = absolutePath(fromData)
        guard FileManager.default.fileExists(atPath: sourcePath + "/sluice.sqlite") else {
            throw ValidationError("--from-data: no embedded store in \(sourcePath) (sluice.sqlite is missing)")
        }
        let source = try SQLiteStore(directory: URL(fileURLWithPath: sourcePath))
        let mediaPath = media.map(absolutePath) ?? sourcePath + "/media"
        let target = try await PostgresStore.open(url: postgres, media: try MediaStore(root: URL(fileURLWithPath: mediaPath)))
        defer { target.close() }
        let line = ProgressLine()
        let summary = try await StoreMigration.migrate(from: source, to: target) { progress in
            let rate = progress.seconds > 0 ? Double(progress.rows) / progress.seconds : 0
            let eta = rate > 0 ? Double(progress.totalRows - progress.rows) / rate : 0
            line.update(
                "copying \(progress.table) · \(ProgressText.grouped(progress.rows))/\(ProgressText.grouped(progress.totalRows)) rows · "
                    + "\(ProgressText.grouped(Int(rate))) rows/s · ETA \(ProgressText.clock(eta))")
        }
        let rows = summary.rows.values.reduce(0, +)
        line.finish(
            "migrated \(rows) rows (\(summary.rows["files"] ?? 0) files, \(summary.rows["instances"] ?? 0) instances) "
                + "and \(summary.media) media in \(String(format: "%.1f", summary.seconds)) s; "
                + "verified row counts and \(summary.streamsVerified) dataset streams byte for byte")
    }
}
