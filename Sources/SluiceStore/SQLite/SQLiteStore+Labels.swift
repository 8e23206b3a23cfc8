import GRDB
import SluiceModel

/// Labels written through the API. Renames go through `renameLabel` (SQLiteStore+Versions),
/// which keeps the old name for the versions before it.
extension SQLiteStore {
    public func createLabel(projectID: String, _ label: NewLabel) async throws -> Label {
        try Self.checkLabelName(label.name, field: "name")
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
                sql: "UPDATE labels SET color = ? WHERE id = ? AND project_id = ? AND valid_to IS NULL", arguments: [color, id, projectID])
            guard db.changesCount > 0 else { throw StoreError.notFound("no label \(id) in project \(projectID)") }
            return try Self.fetchLabel(db, id: id)
        }
    }

    static func fetchLabel(_ db: GRDB.Database, id: Int64) throws -> Label {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT id, name, color, supercategory, keypoint_names, skeleton,
                    (SELECT count(*) FROM labels x WHERE x.project_id = labels.project_id AND x.id < labels.id)
                FROM labels WHERE id = ?
                """,
            arguments: [id])!
        return try label(row, index: row[6])
    }

    public func deleteLabel(id: Int64, projectID: String) async throws {
        try await pool.write { db in
            guard
                let name = try String.fetchOne(
                    db, sql: "SELECT name FROM labels WHERE id = ? AND project_id = ? AND valid_to IS NULL",
                    arguments: [id, projectID])
            else { throw StoreError.notFound("no label \(id) in project \(projectID)") }
            // `label_counts` holds the live instances of every label, kept by triggers.
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM label_counts WHERE label_id = ? LIMIT 1", arguments: [id]) == true {
                throw StoreError.conflict(
                    "label '\(name)' has instances in project \(projectID); delete or relabel them first")
            }
            // The row stays, renamed out of the way so the name can be taken again; the rename
            // trigger keeps the old name for the versions before this clock value.
            let clock = try Self.advanceClock(db)
            try db.execute(
                sql: "UPDATE labels SET valid_to = ?, name = char(1) || 'deleted ' || id WHERE id = ?",
                arguments: [clock, id])
        }
    }

    static func isColor(_ text: String) -> Bool {
        text.utf8.count == 7 && text.hasPrefix("#") && text.dropFirst().allSatisfy(\.isHexDigit)
    }
}

/// Attribute groups: the project's schema of the attributes instances carry, by name.
extension SQLiteStore {
    public func createAttributeGroup(projectID: String, name: String, kind: AttributeKind, options: [String])
        async throws -> AttributeGroup
    {
        try Self.checkGroupName(name)
        let optionsJSON = try JSONColumn.encode(options)
        return try await pool.write { db in
            guard try Self.fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM attribute_groups WHERE project_id = ? AND name = ?", arguments: [projectID, name])
                == true
            {
                throw StoreError.conflict("project \(projectID) already has an attribute group named '\(name)'")
            }
            try db.execute(
                sql: "INSERT INTO attribute_groups (project_id, name, kind, options) VALUES (?, ?, ?, ?)",
                arguments: [projectID, name, kind.rawValue, optionsJSON])
            return try Self.fetchAttributeGroup(db, id: db.lastInsertedRowID, projectID: projectID)!
        }
    }

    public func updateAttributeGroup(id: Int64, projectID: String, name: String?, options: [String]?) async throws
        -> AttributeGroup
    {
        if let name { try Self.checkGroupName(name) }
        let optionsJSON = try options.map(JSONColumn.encode)
        return try await pool.write { db in
            guard let group = try Self.fetchAttributeGroup(db, id: id, projectID: projectID) else {
                throw StoreError.notFound("no attribute group \(id) in project \(projectID)")
            }
            if let name, name != group.name {
                if try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM attribute_groups WHERE project_id = ? AND name = ?", arguments: [projectID, name])
                    == true
                {
                    throw StoreError.conflict("project \(projectID) already has an attribute group named '\(name)'")
                }
                try Self.refuseIfCarried(db, group, projectID: projectID, doing: "renamed")
                try db.execute(sql: "UPDATE attribute_groups SET name = ? WHERE id = ?", arguments: [name, id])
            }
            if let optionsJSON {
                try db.execute(sql: "UPDATE attribute_groups SET options = ? WHERE id = ?", arguments: [optionsJSON, id])
            }
            return try Self.fetchAttributeGroup(db, id: id, projectID: projectID)!
        }
    }

    public func deleteAttributeGroup(id: Int64, projectID: String) async throws {
        try await pool.write { db in
            guard let group = try Self.fetchAttributeGroup(db, id: id, projectID: projectID) else {
                throw StoreError.notFound("no attribute group \(id) in project \(projectID)")
            }
            try Self.refuseIfCarried(db, group, projectID: projectID, doing: "deleted")
            try db.execute(sql: "DELETE FROM attribute_groups WHERE id = ?", arguments: [id])
        }
    }

    static func fetchAttributeGroup(_ db: GRDB.Database, id: Int64, projectID: String) throws -> AttributeGroup? {
        try Row.fetchOne(
            db, sql: "SELECT id, name, kind, options FROM attribute_groups WHERE id = ? AND project_id = ?",
            arguments: [id, projectID]
        ).map { row in
            AttributeGroup(
                id: row[0], name: row[1], kind: AttributeKind(rawValue: row[2]) ?? .text,
                options: try JSONColumn.decode([String].self, from: row[3]))
        }
    }

    /// Instances key attribute values by the group's name: one carrying it (in any version)
    /// would lose its meaning. A scan of the project's instances: an administrative write.
    static func refuseIfCarried(_ db: GRDB.Database, _ group: AttributeGroup, projectID: String, doing: String) throws {
        let carried = try Bool.fetchOne(
            db,
            sql: """
                SELECT 1 FROM files f JOIN instances i ON i.file_id = f.id, json_each(i.attributes) e
                WHERE f.project_id = ? AND e.key = ? LIMIT 1
                """,
            arguments: [projectID, group.name]) ?? false
        if carried {
            throw StoreError.conflict(
                "attribute group '\(group.name)' is carried by instances of project \(projectID) and cannot be \(doing)")
        }
    }

    /// A label name has 1 to 256 bytes; refused naming `field`.
    static func checkLabelName(_ name: String, field: String) throws {
        guard !name.isEmpty, name.utf8.count <= 256 else {
            throw StoreError.invalidField(FieldError(path: field, message: "a label name has 1 to 256 bytes"))
        }
    }

    static func checkGroupName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 256, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw StoreError.invalidField(FieldError(path: "name", message: "a group name has 1 to 256 bytes, no control characters"))
        }
    }
}
