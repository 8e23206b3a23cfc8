import Foundation

/// A directory written under a temporary name beside its target and renamed into place only
/// when complete, so an interrupted backup or restore never leaves a half-written target.
///
/// The target must not exist or be empty: rename(2) replaces an empty directory atomically.
/// A process killed part-way leaves `TARGET.partial-…` beside the target, which is safe to delete.
struct StagedDirectory: Sendable {
    let target: URL
    let staging: URL

    /// Checks that `target` is absent or empty and creates the staging directory beside it.
    init(target: URL) throws {
        let target = target.standardizedFileURL
        try Self.requireEmptyOrAbsent(target)
        let parent = target.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw BackupError.unwritable(path: parent.path, reason: "\(error.localizedDescription)")
        }
        let staging = parent.appendingPathComponent("\(target.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw BackupError.unwritable(path: staging.path, reason: "\(error.localizedDescription)")
        }
        self.target = target
        self.staging = staging
    }

    /// Refuses a target that exists and is not an empty directory.
    static func requireEmptyOrAbsent(_ target: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue, (try? FileManager.default.contentsOfDirectory(atPath: target.path))?.isEmpty == true
        else { throw BackupError.notEmpty(path: target.path) }
    }

    /// Renames the staging directory to the target, checking again that the target is still
    /// absent or empty (rename(2) would fail on a non-empty one anyway), then syncs the parent
    /// directory so that the rename survives a power loss.
    func commit() throws {
        try Self.requireEmptyOrAbsent(target)
        guard rename(staging.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw BackupError.unwritable(path: target.path, reason: reason)
        }
        let parent = open(target.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY)
        if parent >= 0 {
            fsync(parent)
            close(parent)
        }
    }

    /// Removes the staging directory and whatever is in it.
    func discard() {
        try? FileManager.default.removeItem(at: staging)
    }
}
