import ArgumentParser
import Foundation
import SluiceStore

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up an embedded store, live: a consistent copy of its database and the media it references.",
        discussion: """
            A server may be serving and writing the store meanwhile. The database is copied with \
            SQLite's online backup API as of one commit; then each media blob a file of that copy \
            references is hard-linked (on the same file system; --copy to always copy) or copied, \
            and its SHA-256 checked. OUT must not exist or be empty: the backup is written beside \
            it and renamed to OUT when complete. See docs/backup.md.

              sluice backup --data ~/sluice-data /backups/sluice-2025-06-01
              sluice restore /backups/sluice-2025-06-01 --data ~/sluice-data-restored
            """)

    @Argument(help: "The directory to write the backup to (new or empty).")
    var out: String

    @Option(help: "Directory of the embedded store to back up.")
    var data: String

    @Flag(help: "Copy every media blob, never hard-link it.")
    var copy = false

    func run() throws {
        let line = ProgressLine()
        let store = URL(fileURLWithPath: absolutePath(data))
        let summary = try StoreBackup.make(
            of: store, into: URL(fileURLWithPath: absolutePath(out)), transfer: copy ? .copy : .linkOrCopy
        ) { progress in line.update("backing up media · \(progress.line)") }
        line.finish("backed up " + summary.line(from: data, to: out))
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup made by `sluice backup` into a new store directory.",
        discussion: """
            Checks the backup first (PRAGMA integrity_check; every media blob its files reference \
            present) and each blob's SHA-256 as it is linked or copied; a fault names the file. \
            --data must not exist or be empty: the store is written beside it and renamed into \
            place only when all of it passed.

              sluice restore /backups/sluice-2025-06-01 --data ~/sluice-data-restored
            """)

    @Argument(help: "The backup directory.")
    var backup: String

    @Option(help: "Directory of the store to create (new or empty).")
    var data: String

    @Flag(help: "Copy every media blob, never hard-link it.")
    var copy = false

    func run() throws {
        let line = ProgressLine()
        let summary = try StoreBackup(directory: URL(fileURLWithPath: absolutePath(backup))).restore(
            into: URL(fileURLWithPath: absolutePath(data)), transfer: copy ? .copy : .linkOrCopy
        ) { progress in line.update("restoring media · \(progress.line)") }
        line.finish("restored " + summary.line(from: backup, to: data))
    }
}

extension BackupSummary {
    /// `9 files, 9 media (9 linked), 1234567 bytes (database 98304, media 1136263) at store
    /// clock 12 from A to B in 0.12 s`.
    func line(from source: String, to destination: String) -> String {
        "\(files) files, \(media) media (\(linked) linked), \(bytes) bytes (database \(databaseBytes), media \(mediaBytes)) "
            + "at store clock \(clock) from \(source) to \(destination) in \(String(format: "%.2f", seconds)) s"
    }
}
