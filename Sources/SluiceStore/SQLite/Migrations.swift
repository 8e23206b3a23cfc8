import GRDB

/// The SQLite schema, one migration per step; never edit a migration that has shipped.
enum Migrations {

    /// Keep `label_counts` equal to the live instances per (file, label). Imports drop the
    /// row-by-row insert and update triggers inside their transaction and count in one
    /// aggregate at the end (`SQLiteStore.performImport`), then create them again.
    static let labelCountTriggers = """
        CREATE TRIGGER instances_count_insert AFTER INSERT ON instances
        WHEN NEW.label_id IS NOT NULL AND NEW.deleted = 0
        BEGIN
            INSERT INTO label_counts (file_id, label_id, count) VALUES (NEW.file_id, NEW.label_id, 1)
            ON CONFLICT (file_id, label_id) DO UPDATE SET count = count + 1;
        END;
        CREATE TRIGGER instances_count_delete AFTER DELETE ON instances
        WHEN OLD.label_id IS NOT NULL AND OLD.deleted = 0
        BEGIN
            UPDATE label_counts SET count = count - 1 WHERE file_id = OLD.file_id AND label_id = OLD.label_id;
            DELETE FROM label_counts WHERE file_id = OLD.file_id AND label_id = OLD.label_id AND count <= 0;
        END;
        CREATE TRIGGER instances_count_update AFTER UPDATE OF file_id, label_id, deleted ON instances
        BEGIN
            UPDATE label_counts SET count = count - 1
                WHERE OLD.label_id IS NOT NULL AND OLD.deleted = 0
                AND file_id = OLD.file_id AND label_id = OLD.label_id;
            DELETE FROM label_counts WHERE file_id = OLD.file_id AND label_id = OLD.label_id AND count <= 0;
            INSERT INTO label_counts (file_id, label_id, count)
                SELECT NEW.file_id, NEW.label_id, 1 WHERE NEW.label_id IS NOT NULL AND NEW.deleted = 0
            ON CONFLICT (file_id, label_id) DO UPDATE SET count = count + 1;
        END;
        """

    /// Secondary indexes as v1-core created them, by name. A large import drops these part-way
    /// and creates them again before it commits (`SQLiteImportWriter.bulkLoad`).
    static let instanceIndexes: KeyValuePairs = [
        "instances_by_box": "CREATE INDEX instances_by_box ON instances(x_min, y_min, x_max, y_max)",
        "instances_by_file": "CREATE INDEX instances_by_file ON instances(file_id, label_id, deleted)",
    ]
    static let labelCountIndex = (
        name: "label_counts_by_label", sql: "CREATE INDEX label_counts_by_label ON label_counts(label_id, count)"
    )

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.execute(sql: """
                CREATE TABLE projects (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    is_public INTEGER NOT NULL DEFAULT 1,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE labels (
                    id INTEGER PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id),
                    name TEXT NOT NULL,
                    color TEXT NOT NULL,
                    supercategory TEXT,
                    keypoint_names TEXT,
                    skeleton TEXT,
                    UNIQUE (project_id, name)
                );
                CREATE TABLE attribute_groups (
                    id INTEGER PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id),
                    name TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    options TEXT NOT NULL DEFAULT '[]',
                    UNIQUE (project_id, name)
                );
                CREATE TABLE datasets (
                    id INTEGER PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id),
                    name TEXT NOT NULL,
                    file_count INTEGER NOT NULL DEFAULT 0,
                    version INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    UNIQUE (project_id, name)
                );
                CREATE TABLE files (
                    id INTEGER PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id),
                    type TEXT NOT NULL,
                    name TEXT NOT NULL,
                    sha256 TEXT,
                    mime_type TEXT,
                    byte_size INTEGER,
                    width INTEGER,
                    height INTEGER,
                    frame_count INTEGER,
                    frame_rate REAL,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    status TEXT NOT NULL DEFAULT 'pending',
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                -- Position i of a dataset is one primary-key look-up: no OFFSET scans.
                CREATE TABLE dataset_files (
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
                    position INTEGER NOT NULL,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    PRIMARY KEY (dataset_id, position)
                ) WITHOUT ROWID;
                -- A file is at most once in a dataset; this also finds the datasets that hold a file.
                CREATE UNIQUE INDEX dataset_files_by_file ON dataset_files(file_id, dataset_id);
                CREATE TABLE instances (
                    id INTEGER PRIMARY KEY,
                    file_id INTEGER NOT NULL REFERENCES files(id),
                    label_id INTEGER REFERENCES labels(id),
                    kind TEXT NOT NULL,
                    x_min REAL, y_min REAL, x_max REAL, y_max REAL,
                    area REAL,
                    iscrowd INTEGER NOT NULL DEFAULT 0,
                    score REAL,
                    frame INTEGER,
                    track INTEGER,
                    geometry TEXT NOT NULL DEFAULT '{}',
                    attributes TEXT NOT NULL DEFAULT '{}',
                    metadata TEXT NOT NULL DEFAULT '{}',
                    creator TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted INTEGER NOT NULL DEFAULT 0
                );
                -- Box queries and box tensors read these columns, never the geometry JSON.
                CREATE INDEX instances_by_box ON instances(x_min, y_min, x_max, y_max);
                -- Covers the per-file label count (file_id, label_id, deleted): the import's count is an index scan.
                CREATE INDEX instances_by_file ON instances(file_id, label_id, deleted);
                -- Live instance counts per (file, label): label queries read this, never instances.
                CREATE TABLE label_counts (
                    file_id INTEGER NOT NULL,
                    label_id INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (file_id, label_id)
                ) WITHOUT ROWID;
                CREATE INDEX label_counts_by_label ON label_counts(label_id, count);
                """)
            // Triggers keep label_counts right for every write path.
            try db.execute(sql: labelCountTriggers)
        }
        migrator.registerMigration("v2-changes") { db in
            try db.execute(sql: """
                -- The change feed. AUTOINCREMENT: a seq is never reused, even after the newest rows
                -- are deleted, so a client's cursor can never point at a different change later.
                -- One writer at a time makes seq order the commit order: a reader that has seen
                -- seq n will never see a smaller one commit after it.
                CREATE TABLE changes (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
                    kind TEXT NOT NULL CHECK (kind IN ('added', 'changed')),
                    first_position INTEGER NOT NULL,
                    end_position INTEGER NOT NULL,
                    at INTEGER NOT NULL
                );
                CREATE INDEX changes_by_dataset ON changes(dataset_id, seq);
                -- The seq of the last change to the file's item; 0 for files unchanged since this migration.
                ALTER TABLE files ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v3-api-keys") { db in
            try db.execute(sql: """
                -- API keys (issue 6). The secret is kept only as its SHA-256: secrets are 256 random
                -- bits, so a fast hash is as safe as a slow one and costs nothing per request.
                -- Self-contained: later migrations may add tables beside it without touching it.
                CREATE TABLE api_keys (
                    client_id TEXT PRIMARY KEY,
                    project_id TEXT NOT NULL REFERENCES projects(id),
                    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
                    secret_sha256 BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX api_keys_by_project ON api_keys(project_id);
                """)
        }
        migrator.registerMigration("v4-label-sources") { db in
            try db.execute(sql: """
                -- The id a label had in the file it was imported from (a COCO category id), so an
                -- export can give it back.
                ALTER TABLE labels ADD COLUMN source_id INTEGER;
                """)
        }
        migrator.registerMigration("v4-versions") { db in
            try db.execute(sql: versionsSchema)
        }
        migrator.registerMigration("v5-server-keys") { db in
            try db.execute(sql: """
                -- Keys of the whole server (issue 14): the only ones that create projects. Kept apart
                -- from project keys, whose project_id is a foreign key.
                CREATE TABLE server_keys (
                    client_id TEXT PRIMARY KEY,
                    secret_sha256 BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v6-removals") { db in
            // The change feed's CHECK names its kinds: the table is built again with `removed`,
            // keeping every seq and the largest one handed out (sqlite_sequence), which may be
            // above the newest row (`drawChangeSeq`).
            let handedOut = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
            try db.execute(sql: removalsSchema)
            if let handedOut {
                // sqlite_sequence has no key on name: update the row the copy made, or add one.
                try db.execute(
                    sql: "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'changes'", arguments: [handedOut])
                if db.changesCount == 0 {
                    try db.execute(
                        sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', ?)", arguments: [handedOut])
                }
            }
        }
        migrator.registerMigration("v7-label-deletions") { db in
            // A deleted label keeps its row (docs/writes.md "Labels"): tensor `labels` indices
            // count every label the project ever had, so deleting one moves no other's index.
            // `valid_to` is the clock value of the deletion; versions before it still list it.
            try db.execute(sql: "ALTER TABLE labels ADD COLUMN valid_to INTEGER")
        }
        migrator.registerMigration("v8-dataset-tags") { db in
            try db.execute(sql: datasetTagsSchema)
        }
        return migrator
    }

    /// Tags on datasets (issue 20): free names a query tests as `dataset.tag`. Not versioned
    /// and no part of any item, so a tag write advances no dataset version; it advances its
    /// project's tag revision instead, which the slice cache keys tag queries on.
    /// Self-contained (its own tables, no change to older ones), so migrations inserted before
    /// it change nothing here.
    static let datasetTagsSchema = """
        CREATE TABLE dataset_tags (
            dataset_id INTEGER NOT NULL REFERENCES datasets(id),
            tag TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (dataset_id, tag)
        ) WITHOUT ROWID;
        -- The datasets with a tag: a query's EXISTS reaches tags from a file's datasets by the
        -- primary key; listing a tag's datasets reads this.
        CREATE INDEX dataset_tags_by_tag ON dataset_tags(tag, dataset_id);
        CREATE TABLE dataset_tag_revisions (
            project_id TEXT PRIMARY KEY REFERENCES projects(id),
            revision INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// Files removed from datasets (docs/writes.md): a removed file keeps its position, closed
    /// at the clock value of the removal, so versions before it still read it there and
    /// positions never move. A file may come back to a dataset, at a new position.
    static let removalsSchema = """
        ALTER TABLE dataset_files ADD COLUMN removed_at INTEGER;
        ALTER TABLE datasets ADD COLUMN removed_count INTEGER NOT NULL DEFAULT 0;
        DROP INDEX dataset_files_by_file;
        CREATE INDEX dataset_files_by_file ON dataset_files(file_id, dataset_id);
        CREATE UNIQUE INDEX dataset_files_live ON dataset_files(file_id, dataset_id) WHERE removed_at IS NULL;
        CREATE TABLE changes_v6 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            dataset_id INTEGER NOT NULL REFERENCES datasets(id),
            kind TEXT NOT NULL CHECK (kind IN ('added', 'changed', 'removed')),
            first_position INTEGER NOT NULL,
            end_position INTEGER NOT NULL,
            at INTEGER NOT NULL
        );
        INSERT INTO changes_v6 (seq, dataset_id, kind, first_position, end_position, at)
            SELECT seq, dataset_id, kind, first_position, end_position, at FROM changes;
        DROP TABLE changes;
        ALTER TABLE changes_v6 RENAME TO changes;
        CREATE INDEX changes_by_dataset ON changes(dataset_id, seq);
        -- Each version keeps how many of its positions were removed then: a version's file count.
        ALTER TABLE dataset_versions ADD COLUMN removed_count INTEGER NOT NULL DEFAULT 0;
        DROP TRIGGER datasets_first_version;
        DROP TRIGGER datasets_keep_versions;
        CREATE TRIGGER datasets_first_version AFTER INSERT ON datasets
        BEGIN
            INSERT OR REPLACE INTO dataset_versions (dataset_id, version, seq, file_count, removed_count)
            VALUES (NEW.id, NEW.version, (SELECT seq FROM store_clock), NEW.file_count, NEW.removed_count);
        END;
        CREATE TRIGGER datasets_keep_versions AFTER UPDATE OF version ON datasets WHEN OLD.version IS NOT NEW.version
        BEGIN
            INSERT OR REPLACE INTO dataset_versions (dataset_id, version, seq, file_count, removed_count)
            VALUES (NEW.id, NEW.version, (SELECT seq FROM store_clock), NEW.file_count, NEW.removed_count);
        END;
        """

    /// Dataset versions by validity intervals (docs/versions.md): every write transaction
    /// advances one store-wide clock; instance rows carry the clock value at which they
    /// appeared and disappeared; the superseded values of the few mutable columns an item
    /// shows (a label's name, a file's revision) are kept with the clock value that ended them.
    /// Nothing is copied per version or per snapshot.
    static let versionsSchema = """
        CREATE TABLE store_clock (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
        INSERT INTO store_clock (id, seq) VALUES (1, 0);
        -- Rows from before this migration count as there since clock 0. Instances deleted
        -- before it have an unknown past: no version shows them.
        ALTER TABLE instances ADD COLUMN valid_from INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE instances ADD COLUMN valid_to INTEGER;
        UPDATE instances SET valid_to = 0 WHERE deleted = 1;
        ALTER TABLE labels ADD COLUMN valid_from INTEGER NOT NULL DEFAULT 0;
        -- A label's names before its current one: each was its name until valid_to.
        CREATE TABLE label_names (
            label_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            valid_to INTEGER NOT NULL
        );
        CREATE INDEX label_names_by_label ON label_names(label_id, valid_to);
        CREATE TRIGGER labels_keep_names AFTER UPDATE OF name ON labels WHEN OLD.name IS NOT NEW.name
        BEGIN
            INSERT INTO label_names (label_id, name, valid_to) VALUES (OLD.id, OLD.name, (SELECT seq FROM store_clock));
        END;
        -- A file's revisions before its current one.
        CREATE TABLE file_revisions (
            file_id INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            valid_to INTEGER NOT NULL
        );
        CREATE INDEX file_revisions_by_file ON file_revisions(file_id, valid_to);
        CREATE TRIGGER files_keep_revisions AFTER UPDATE OF revision ON files WHEN OLD.revision IS NOT NEW.revision
        BEGIN
            INSERT INTO file_revisions (file_id, revision, valid_to) VALUES (OLD.id, OLD.revision, (SELECT seq FROM store_clock));
        END;
        -- Every version of every dataset since this migration: the clock value it reads at
        -- and its file count (positions only grow, so the count is the file set).
        CREATE TABLE dataset_versions (
            dataset_id INTEGER NOT NULL,
            version INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            file_count INTEGER NOT NULL,
            PRIMARY KEY (dataset_id, version)
        ) WITHOUT ROWID;
        INSERT INTO dataset_versions (dataset_id, version, seq, file_count) SELECT id, version, 0, file_count FROM datasets;
        CREATE TRIGGER datasets_first_version AFTER INSERT ON datasets
        BEGIN
            INSERT OR REPLACE INTO dataset_versions (dataset_id, version, seq, file_count)
            VALUES (NEW.id, NEW.version, (SELECT seq FROM store_clock), NEW.file_count);
        END;
        CREATE TRIGGER datasets_keep_versions AFTER UPDATE OF version ON datasets WHEN OLD.version IS NOT NEW.version
        BEGIN
            INSERT OR REPLACE INTO dataset_versions (dataset_id, version, seq, file_count)
            VALUES (NEW.id, NEW.version, (SELECT seq FROM store_clock), NEW.file_count);
        END;
        -- Named, immutable pins of a dataset version.
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            dataset_id INTEGER NOT NULL REFERENCES datasets(id),
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (dataset_id, name)
        );
        """
}
