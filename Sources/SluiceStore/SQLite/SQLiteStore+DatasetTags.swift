import GRDB
import SluiceModel

/// Tags on datasets: names a query tests as `dataset.tag` (Diffgram's `dataset_tag.tag`).
/// A tag belongs to no item and to no version: writing one moves no dataset version and no
/// change feed, and advances the project's tag revision instead (docs/decisions.md).
extension SQLiteStore {
    /// Longest tag, in bytes of UTF-8.
    static let maximumTagBytes = 256
    /// Most tags one dataset holds: a label of a dataset, not a place to store lists.
    static let maximumTagsPerDataset = 1_000

    public func datasetTags(datasetID: Int64) async throws -> [String] {
        try await pool.read { db in
            _ = try Self.projectID(db, ofDataset: datasetID)
            return try Self.fetchTags(db, datasetID: datasetID)
        }
    }

    public func addDatasetTags(datasetID: Int64, _ tags: [String]) async throws -> [String] {
        for (index, tag) in tags.enumerated() { try Self.validateTag(tag, field: "tags[\(index)]") }
        return try await pool.write { db in
            let projectID = try Self.projectID(db, ofDataset: datasetID)
            let now = Timestamp.now().milliseconds
            let held = try Int.fetchOne(db, sql: "SELECT count(*) FROM dataset_tags WHERE dataset_id = ?", arguments: [datasetID]) ?? 0
            let new = Set(tags).subtracting(try Self.fetchTags(db, datasetID: datasetID))
            guard held + new.count <= Self.maximumTagsPerDataset else {
                throw StoreError.invalidField(
                    FieldError(
                        path: "tags",
                        message: "a dataset holds at most \(Self.maximumTagsPerDataset) tags; it has \(held), this adds \(new.count)"))
            }
            var added = false
            for tag in tags {
                try db.execute(
                    sql: "INSERT INTO dataset_tags (dataset_id, tag, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [datasetID, tag, now])
                added = added || db.changesCount > 0
            }
            if added { try Self.advanceTagsRevision(db, projectID: projectID) }
            return try Self.fetchTags(db, datasetID: datasetID)
        }
    }

    public func removeDatasetTag(datasetID: Int64, _ tag: String) async throws -> [String] {
        try await pool.write { db in
            let projectID = try Self.projectID(db, ofDataset: datasetID)
            try db.execute(sql: "DELETE FROM dataset_tags WHERE dataset_id = ? AND tag = ?", arguments: [datasetID, tag])
            guard db.changesCount > 0 else { throw StoreError.notFound("dataset \(datasetID) has no tag '\(tag)'") }
            try Self.advanceTagsRevision(db, projectID: projectID)
            return try Self.fetchTags(db, datasetID: datasetID)
        }
    }

    public func datasetTagsRevision(projectID: String) async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT revision FROM dataset_tag_revisions WHERE project_id = ?"),
                arguments: [projectID]) ?? 0
        }
    }

    /// Refuses a tag of 0 or more than 256 bytes, or with a control character (it would not
    /// survive a terminal, a log line or a header), naming `field`.
    static func validateTag(_ tag: String, field: String) throws {
        let bytes = tag.utf8.count
        guard bytes >= 1, bytes <= maximumTagBytes else {
            throw StoreError.invalidField(
                FieldError(path: field, message: "a tag has 1 to \(maximumTagBytes) bytes, this one has \(bytes)"))
        }
        if let control = tag.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let code = "U+" + String(control.value, radix: 16, uppercase: true).leftPadded(to: 4)
            throw StoreError.invalidField(FieldError(path: field, message: "a tag has no control characters, this one has \(code)"))
        }
    }

    static func projectID(_ db: GRDB.Database, ofDataset datasetID: Int64) throws -> String {
        guard let projectID = try String.fetchOne(
            db.cachedStatement(sql: "SELECT project_id FROM datasets WHERE id = ?"), arguments: [datasetID])
        else { throw StoreError.notFound("no dataset with id \(datasetID)") }
        return projectID
    }

    static func fetchTags(_ db: GRDB.Database, datasetID: Int64) throws -> [String] {
        // BINARY collation: byte order, the order text compares in queries.
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT tag FROM dataset_tags WHERE dataset_id = ? ORDER BY tag"), arguments: [datasetID])
    }

    static func advanceTagsRevision(_ db: GRDB.Database, projectID: String) throws {
        try db.execute(
            sql: """
                INSERT INTO dataset_tag_revisions (project_id, revision) VALUES (?, 1)
                ON CONFLICT (project_id) DO UPDATE SET revision = revision + 1
                """,
            arguments: [projectID])
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
