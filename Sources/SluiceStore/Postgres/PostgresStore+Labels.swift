import PostgresNIO
import SluiceModel

/// Labels and attribute groups written through the API, as SQLiteStore+Labels.
extension PostgresStore {
    static func fetchLabel(_ db: PostgresSession, id: Int64) async throws -> Label {
        let row = try await db.row(
            """
            SELECT id, name, color, supercategory, keypoint_names, skeleton,
                (SELECT count(*) FROM labels x WHERE x.project_id = labels.project_id AND x.id < labels.id)
            FROM labels WHERE id = \(id)
            """)!
        return try label(row, index: try row.at(6))
    }

    public func createLabel(projectID: String, _ label: NewLabel) async throws -> Label {
        try SQLiteStore.checkLabelName(label.name, field: "name")
        if let color = label.color, !SQLiteStore.isColor(color) {
            throw StoreError.invalidField(FieldError(path: "color", message: "expected #rrggbb, got '\(color)'"))
        }
        let keypoints = try label.keypointNames.map(JSONColumn.encode)
        let skeleton = try label.skeleton.map(JSONColumn.encode)
        return try await write { db in
            guard try await Self.fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
            if try await db.row("SELECT 1 FROM labels WHERE project_id = \(projectID) AND name = \(label.name)") != nil {
                throw StoreError.conflict("project \(projectID) already has a label named '\(label.name)'")
            }
            let clock = try await Self.advanceClock(db)
            let id = try await db.value(
                """
                INSERT INTO labels (project_id, name, color, supercategory, keypoint_names, skeleton, valid_from)
                VALUES (\(projectID), \(label.name), \(label.color ?? Label.defaultColor(for: label.name)),
                    \(label.supercategory), \(keypoints), \(skeleton), \(clock))
                RETURNING id
                """, as: Int64.self)!
            return try await Self.fetchLabel(db, id: id)
        }
    }

    public func setLabelColor(id: Int64, projectID: String, color: String) async throws -> Label {
        guard SQLiteStore.isColor(color) else {
            throw StoreError.invalidField(FieldError(path: "color", message: "expected #rrggbb, got '\(color)'"))
        }
        return try await write { db in
            guard try await db.row(
                """
                UPDATE labels SET color = \(color) WHERE id = \(id) AND project_id = \(projectID) AND valid_to IS NULL
                RETURNING 1
                """) != nil
            else { throw StoreError.notFound("no label \(id) in project \(projectID)") }
            return try await Self.fetchLabel(db, id: id)
        }
    }

    public func deleteLabel(id: Int64, projectID: String) async throws {
        try await write { db in
            guard let name = try await db.value(
                "SELECT name FROM labels WHERE id = \(id) AND project_id = \(projectID) AND valid_to IS NULL", as: String.self)
            else { throw StoreError.notFound("no label \(id) in project \(projectID)") }
            if try await db.row("SELECT 1 FROM label_counts WHERE label_id = \(id) LIMIT 1") != nil {
                throw StoreError.conflict("label '\(name)' has instances in project \(projectID); delete or relabel them first")
            }
            // The row stays, renamed out of the way so the name can be taken again (docs/writes.md).
            let clock = try await Self.advanceClock(db)
            try await db.execute(
                "UPDATE labels SET valid_to = \(clock), name = chr(1) || 'deleted ' || id WHERE id = \(id)")
        }
    }

    // MARK: Attribute groups

    static func fetchAttributeGroup(_ db: PostgresSession, id: Int64, projectID: String) async throws -> AttributeGroup? {
        try await db.row(
            "SELECT id, name, kind, options FROM attribute_groups WHERE id = \(id) AND project_id = \(projectID)"
        ).map(attributeGroup)
    }

    /// Creates an attribute group (or returns the existing one of that name).
    public func ensureAttributeGroup(projectID: String, name: String, kind: AttributeKind, options: [String])
        async throws -> AttributeGroup
    {
        let optionsJSON = try JSONColumn.encode(options)
        return try await write { db in
            try await db.execute(
                """
                INSERT INTO attribute_groups (project_id, name, kind, options) VALUES (\(projectID), \(name), \(kind.rawValue),
                    \(optionsJSON))
                ON CONFLICT (project_id, name) DO NOTHING
                """)
            return try Self.attributeGroup(
                try await db.row(
                    "SELECT id, name, kind, options FROM attribute_groups WHERE project_id = \(projectID) AND name = \(name)")!)
        }
    }

    public func createAttributeGroup(projectID: String, name: String, kind: AttributeKind, options: [String])
        async throws -> AttributeGroup
    {
        try SQLiteStore.checkGroupName(name)
        let optionsJSON = try JSONColumn.encode(options)
        return try await write { db in
            guard try await Self.fetchProject(db, id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
            if try await db.row("SELECT 1 FROM attribute_groups WHERE project_id = \(projectID) AND name = \(name)") != nil {
                throw StoreError.conflict("project \(projectID) already has an attribute group named '\(name)'")
            }
            let id = try await db.value(
                """
                INSERT INTO attribute_groups (project_id, name, kind, options)
                VALUES (\(projectID), \(name), \(kind.rawValue), \(optionsJSON)) RETURNING id
                """, as: Int64.self)!
            return try await Self.fetchAttributeGroup(db, id: id, projectID: projectID)!
        }
    }

    public func updateAttributeGroup(id: Int64, projectID: String, name: String?, options: [String]?) async throws
        -> AttributeGroup
    {
        if let name { try SQLiteStore.checkGroupName(name) }
        let optionsJSON = try options.map(JSONColumn.encode)
        return try await write { db in
            guard let group = try await Self.fetchAttributeGroup(db, id: id, projectID: projectID) else {
                throw StoreError.notFound("no attribute group \(id) in project \(projectID)")
            }
            if let name, name != group.name {
                if try await db.row("SELECT 1 FROM attribute_groups WHERE project_id = \(projectID) AND name = \(name)") != nil {
                    throw StoreError.conflict("project \(projectID) already has an attribute group named '\(name)'")
                }
                try await Self.refuseIfCarried(db, group, projectID: projectID, doing: "renamed")
                try await db.execute("UPDATE attribute_groups SET name = \(name) WHERE id = \(id)")
            }
            if let optionsJSON {
                try await db.execute("UPDATE attribute_groups SET options = \(optionsJSON) WHERE id = \(id)")
            }
            return try await Self.fetchAttributeGroup(db, id: id, projectID: projectID)!
        }
    }

    public func deleteAttributeGroup(id: Int64, projectID: String) async throws {
        try await write { db in
            guard let group = try await Self.fetchAttributeGroup(db, id: id, projectID: projectID) else {
                throw StoreError.notFound("no attribute group \(id) in project \(projectID)")
            }
            try await Self.refuseIfCarried(db, group, projectID: projectID, doing: "deleted")
            try await db.execute("DELETE FROM attribute_groups WHERE id = \(id)")
        }
    }

    /// Instances key attribute values by the group's name: one carrying it (in any version)
    /// would lose its meaning.
    static func refuseIfCarried(_ db: PostgresSession, _ group: AttributeGroup, projectID: String, doing: String)
        async throws
    {
        let carried = try await db.row(
            """
            SELECT 1 FROM files f JOIN instances i ON i.file_id = f.id
            WHERE f.project_id = \(projectID) AND i.attributes::jsonb ? \(group.name) LIMIT 1
            """) != nil
        if carried {
            throw StoreError.conflict(
                "attribute group '\(group.name)' is carried by instances of project \(projectID) and cannot be \(doing)")
        }
    }
}
