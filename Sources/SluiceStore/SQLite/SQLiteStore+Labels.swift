import GRDB
import SluiceModel

/// Labels written through the API. Renames go through `renameLabel` (SQLiteStore+Versions),
/// which keeps the old name for the versions before it.
extension SQLiteStore {
    public func createLabel(projectID: String, _ label: NewLabel) async throws -> Label {
        guard !label.name.isEmpty, label.name.utf8.count <= 256 else {
            throw StoreError.invalidField(FieldError(path: "name", message: "a label name has 1 to 256 bytes"))
        }
        if let color = label.color, !Self.isColor(color) {
            throw StoreError.invalidField(FieldError(path: "color", message: "expected #rrggbb, got '\(color)'"))
        }
        return try await pool.write { db in
            guard try Self.fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM labels WHERE project_id = ? AND name = ?", arguments: [projectID, label.name]) == true
            {
                throw StoreError.conflict("project \(projectID) already has a label named '\(label.name)'")
            }
            // A new label changes no item, but the project's label list of later versions has it.
            let clock = try Self.advanceClock(db)
            try db.execute(
                sql: """
                    INSERT INTO labels (project_id, name, color, supercategory, keypoint_names, skeleton, valid_from)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    projectID, label.name, label.color ?? Label.defaultColor(for: label.name), label.supercategory,
                    try label.keypointNames.map(JSONColumn.encode), try label.skeleton.map(JSONColumn.encode), clock,
                ])
            return try Self.fetchLabel(db, id: db.lastInsertedRowID)
        }
    }

    public func setLabelColor(id: Int64, projectID: String, color: String) async throws -> Label {
        guard Self.isColor(color) else {
            throw StoreError.invalidField(FieldError(path: "color", message: "expected #rrggbb, got '\(color)'"))
        }
        return try await pool.write { db in
            try db.execute(
                sql: "UPDATE labels SET color = ? WHERE id = ? AND project_id = ?", arguments: [color, id, projectID])
            guard db.changesCount > 0 else { throw StoreError.invalid("no label \(id) in project \(projectID)") }
            return try Self.fetchLabel(db, id: id)
        }
    }

    static func fetchLabel(_ db: GRDB.Database, id: Int64) throws -> Label {
        let row = try Row.fetchOne(
            db, sql: "SELECT id, name, color, supercategory, keypoint_names, skeleton FROM labels WHERE id = ?",
            arguments: [id])!
        return Label(
            id: row[0], name: row[1], color: row[2], supercategory: row[3],
            keypointNames: try (row[4] as String?).map { try JSONColumn.decode([String].self, from: $0) },
            skeleton: try (row[5] as String?).map { try JSONColumn.decode([[Int]].self, from: $0) })
    }

    static func isColor(_ text: String) -> Bool {
        text.utf8.count == 7 && text.hasPrefix("#") && text.dropFirst().allSatisfy(\.isHexDigit)
    }
}
