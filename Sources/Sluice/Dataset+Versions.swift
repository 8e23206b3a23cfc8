import Foundation
import NIOCore

extension Dataset {
    /// This dataset as it was at `version`: a snapshot name (`"v1"`) or a version number.
    /// `count`, `[i]`, pages, streams and slices of the handle read that version's items,
    /// byte for byte the same whatever is written later.
    public func at(_ version: String) async throws -> Dataset {
        var info = self.info
        if let number = Int64(version) {
            info.version = number
            info.count = try await PositionReader(connection: connection, route: "/api/v1/datasets/\(id)", version: number).count
        } else {
            guard let snapshot = try await snapshots().first(where: { $0.name == version }) else {
                throw SluiceError.notFound("dataset \(name) has no snapshot named '\(version)'")
            }
            info.version = snapshot.version
            info.count = snapshot.count
        }
        return Dataset(info: info, connection: connection, pinnedVersion: info.version)
    }

    /// Pins the dataset's current version under `name` (`POST /datasets/{id}/snapshots`).
    public func createSnapshot(name: String) async throws -> Snapshot {
        struct Body: Encodable { var name: String }
        return try await connection.post("/api/v1/datasets/\(id)/snapshots", json: Body(name: name))
    }

    /// The dataset's snapshots, oldest first.
    public func snapshots() async throws -> [Snapshot] {
        try await connection.get("/api/v1/datasets/\(id)/snapshots")
    }

    /// The differences between two versions (numbers or snapshot names; `to` defaults to now),
    /// handed to `onEntry` in position order as they stream in. Not retried: a broken transfer
    /// throws, and the caller asks again.
    public func diff(from: String, to: String? = nil, onEntry: (VersionDiffEntry) throws -> Void) async throws {
        var path = "/api/v1/datasets/\(id)/diff?from=\(from.queryEscaped)"
        if let to { path += "&to=\(to.queryEscaped)" }
        var pending: [UInt8] = []
        let decoder = JSONDecoder()
        do {
            _ = try await connection.stream(path) { chunk in
                pending.append(contentsOf: chunk.readableBytesView)
                // Whole lines only; the partial last one waits for the next chunk.
                guard let last = pending.lastIndex(of: 10) else { return }
                for line in pending[...last].split(separator: 10) {
                    try onEntry(try decoder.decode(VersionDiffEntry.self, from: Data(line)))
                }
                pending.removeSubrange(...last)
            }
        } catch let failure as Connection.TransientFailure {
            throw SluiceError.unreachable(host: connection.configuration.host, reason: failure.reason)
        }
    }
}
