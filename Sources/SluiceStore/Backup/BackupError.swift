import Foundation

/// Why a backup or a restore stopped. Each names the path (or blob) at fault.
public enum BackupError: Error, CustomStringConvertible, Equatable {
    /// A backup's destination or a restore's store directory holds something already.
    case notEmpty(path: String)
    /// The directory holds no Sluice database.
    case noDatabase(path: String)
    /// A file row names media the store (or the backup) does not hold.
    case missingMedia(sha256: String, path: String)
    /// A blob whose bytes do not hash to the name it is stored under.
    case corruptMedia(path: String, actual: String)
    /// A `files.sha256` value that is not a SHA-256 (64 lowercase hex digits).
    case malformedReference(fileID: Int64, value: String)
    /// `PRAGMA integrity_check` found faults in a database: its first messages.
    case damagedDatabase(path: String, problems: [String])
    case unreadable(path: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notEmpty(let path):
            "\(path) is not empty: a backup or restore is written only into a new or empty directory"
        case .noDatabase(let path): "no Sluice store here: \(path) does not exist"
        case .missingMedia(let sha256, let path): "media blob \(sha256) is missing: no file at \(path)"
        case .corruptMedia(let path, let actual): "media blob \(path) is corrupt: its bytes hash to \(actual)"
        case .malformedReference(let fileID, let value):
            "files.sha256 of file \(fileID) is '\(value)', not 64 lowercase hex digits"
        case .damagedDatabase(let path, let problems):
            "the database \(path) fails its integrity check: \(problems.joined(separator: "; "))"
        case .unreadable(let path): "cannot read \(path)"
        case .unwritable(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}
