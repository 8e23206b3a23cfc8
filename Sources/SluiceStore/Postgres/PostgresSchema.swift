import Foundation

/// The PostgreSQL schema, one migration per step; never edit a migration that has shipped.
///
/// The same tables, columns and meanings as the SQLite schema after its migrations
/// (SQLite/Migrations.swift, docs/versions.md), so one `Store` behaviour reads both. Text that
/// queries compare is declared `COLLATE "C"`: byte order of UTF-8, as SQLite's BINARY and the
/// reference evaluator compare, whatever the database's own collation.
enum PostgresSchema {
    /// Migrations in order: (version, SQL). Applied each in its own transaction, under an
    /// advisory lock, so servers started together migrate once.
    static let migrations: [(version: Int, sql: String)] = [(1, core), (2, coveringIndexes), (3, noBoxIndex)]

    /// The first key of the migration's `pg_advisory_lock(int, int)`, "slui" in ASCII; the
    /// second is the hash of the schema's name, so stores in different schemas migrate at once
    /// and the servers of one store one after the other.
    static let migrationLockClass: Int32 = 0x736c_7569

    /// The statements of a migration, one at a time: PostgresNIO speaks the extended query
    /// protocol, which runs one statement per message. A statement ends with a line ending in
    /// `;` outside a `$$` function body.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current.append(line)
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, line.hasSuffix(";") {
                let statement = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = []
            }
        }
        let rest = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    /// A slice reads label_counts by label and dataset_files by file: with the columns it wants
    /// from them in the indexes, it reads no table page (once VACUUM has marked them visible,
    /// which an import does at its end). A rare label's slice of a million files: ~200 ms of
    /// scattered page reads become ~50 ms.
    static let coveringIndexes = """
        DROP INDEX label_counts_by_label;
        CREATE INDEX label_counts_by_label ON label_counts(label_id, count) INCLUDE (file_id);
        DROP INDEX dataset_files_live;
        CREATE UNIQUE INDEX dataset_files_live ON dataset_files(file_id, dataset_id) INCLUDE (position) WHERE removed_at IS NULL;
        """

    /// No statement reads instances by their box: the query language has no box terms, and
    /// items, tensors and exports read an instance's box columns by its file. Kept row by row
    /// in the random order instances arrive, the index cost 7 of an import's 11 s of instance
    /// COPY at 200,000 files (SQLite rebuilds its copy in bulk after a large import, 6 s at
    /// a million files; PostgreSQL cannot drop an index under a reader without blocking it).
    /// Box queries, when they come, bring an index suited to them (docs/decisions.md).
    static let noBoxIndex = """
        DROP INDEX instances_by_box;
        """

    static let core = """
        CREATE TABLE projects (
            id text COLLATE "C" PRIMARY KEY,
            name text NOT NULL,
            is_public boolean NOT NULL DEFAULT true,
            created_at bigint NOT NULL
        );
        CREATE TABLE labels (
            id bigserial PRIMARY KEY,
            project_id text COLLATE "C" NOT NULL REFERENCES projects(id),
            name text COLLATE "C" NOT NULL,
            color text NOT NULL,
            supercategory text,
            keypoint_names text,
            skeleton text,
            source_id bigint,
            valid_from bigint NOT NULL DEFAULT 0,
            valid_to bigint,
            UNIQUE (project_id, name)
        );
        CREATE TABLE attribute_groups (
            id bigserial PRIMARY KEY,
            project_id text COLLATE "C" NOT NULL REFERENCES projects(id),
            name text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            options text NOT NULL DEFAULT '[]',
            UNIQUE (project_id, name)
        );
        CREATE TABLE datasets (
            id bigserial PRIMARY KEY,
            project_id text COLLATE "C" NOT NULL REFERENCES projects(id),
            name text COLLATE "C" NOT NULL,
            file_count bigint NOT NULL DEFAULT 0,
            version bigint NOT NULL DEFAULT 0,
            created_at bigint NOT NULL,
            removed_count bigint NOT NULL DEFAULT 0,
            UNIQUE (project_id, name)
        );
        CREATE TABLE files (
            id bigserial PRIMARY KEY,
            project_id text COLLATE "C" NOT NULL,
            type text COLLATE "C" NOT NULL,
            name text COLLATE "C" NOT NULL,
            sha256 text COLLATE "C",
            mime_type text COLLATE "C",
            byte_size bigint,
            width bigint,
            height bigint,
            frame_count bigint,
            frame_rate double precision,
            metadata text NOT NULL DEFAULT '{}',
            status text COLLATE "C" NOT NULL DEFAULT 'pending',
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            revision bigint NOT NULL DEFAULT 0
        );
        -- Position i of a dataset is one primary-key look-up: no OFFSET scans. A removed file
        -- keeps its position, closed at the clock value of the removal.
        -- files, dataset_files and instances, the tables an import fills by the million, declare
        -- no foreign keys: PostgreSQL checks one with a query per row, which took two thirds of
        -- an import's time. Every write path checks the project and inserts a file before its
        -- places and instances, in the same transaction; nothing deletes a file, and a label
        -- only once no instance refers to it (docs/decisions.md).
        CREATE TABLE dataset_files (
            dataset_id bigint NOT NULL,
            position bigint NOT NULL,
            file_id bigint NOT NULL,
            removed_at bigint,
            PRIMARY KEY (dataset_id, position)
        );
        CREATE INDEX dataset_files_by_file ON dataset_files(file_id, dataset_id);
        CREATE UNIQUE INDEX dataset_files_live ON dataset_files(file_id, dataset_id) WHERE removed_at IS NULL;
        CREATE TABLE instances (
            id bigserial PRIMARY KEY,
            file_id bigint NOT NULL,
            label_id bigint,
            kind text COLLATE "C" NOT NULL,
            x_min double precision, y_min double precision, x_max double precision, y_max double precision,
            area double precision,
            iscrowd integer NOT NULL DEFAULT 0,
            score double precision,
            frame bigint,
            track bigint,
            geometry text NOT NULL DEFAULT '{}',
            attributes text NOT NULL DEFAULT '{}',
            metadata text NOT NULL DEFAULT '{}',
            creator text,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            deleted integer NOT NULL DEFAULT 0,
            valid_from bigint NOT NULL DEFAULT 0,
            valid_to bigint
        );
        CREATE INDEX instances_by_box ON instances(x_min, y_min, x_max, y_max);
        CREATE INDEX instances_by_file ON instances(file_id, label_id, deleted);
        -- Live instance counts per (file, label): label queries read this, never instances.
        CREATE TABLE label_counts (
            file_id bigint NOT NULL,
            label_id bigint NOT NULL,
            count bigint NOT NULL,
            PRIMARY KEY (file_id, label_id)
        );
        CREATE INDEX label_counts_by_label ON label_counts(label_id, count);
        -- The change feed. Its seq comes from a sequence, never reused; writers take turns
        -- (each locks the store_clock row first), so seq order is commit order.
        CREATE SEQUENCE changes_seq;
        CREATE TABLE changes (
            seq bigint PRIMARY KEY DEFAULT nextval('changes_seq'),
            dataset_id bigint NOT NULL REFERENCES datasets(id),
            kind text NOT NULL CHECK (kind IN ('added', 'changed', 'removed')),
            first_position bigint NOT NULL,
            end_position bigint NOT NULL,
            at bigint NOT NULL
        );
        CREATE INDEX changes_by_dataset ON changes(dataset_id, seq);
        CREATE TABLE api_keys (
            client_id text COLLATE "C" PRIMARY KEY,
            project_id text COLLATE "C" NOT NULL REFERENCES projects(id),
            role text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
            secret_sha256 bytea NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE INDEX api_keys_by_project ON api_keys(project_id);
        CREATE TABLE server_keys (
            client_id text COLLATE "C" PRIMARY KEY,
            secret_sha256 bytea NOT NULL,
            created_at bigint NOT NULL
        );
        -- Dataset versions by validity intervals (docs/versions.md). Every write transaction
        -- locks this row first and holds it to its end: one writer at a time, as on SQLite, so
        -- the clock, the change feed's seq and commit order agree (a reader that has seen seq n
        -- never sees a smaller one commit later).
        CREATE TABLE store_clock (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL);
        INSERT INTO store_clock (id, seq) VALUES (1, 0);
        CREATE TABLE label_names (
            label_id bigint NOT NULL,
            name text COLLATE "C" NOT NULL,
            valid_to bigint NOT NULL
        );
        CREATE INDEX label_names_by_label ON label_names(label_id, valid_to);
        CREATE TABLE file_revisions (
            file_id bigint NOT NULL,
            revision bigint NOT NULL,
            valid_to bigint NOT NULL
        );
        CREATE INDEX file_revisions_by_file ON file_revisions(file_id, valid_to);
        CREATE TABLE dataset_versions (
            dataset_id bigint NOT NULL,
            version bigint NOT NULL,
            seq bigint NOT NULL,
            file_count bigint NOT NULL,
            removed_count bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (dataset_id, version)
        );
        CREATE TABLE snapshots (
            id bigserial PRIMARY KEY,
            dataset_id bigint NOT NULL REFERENCES datasets(id),
            name text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            created_at bigint NOT NULL,
            UNIQUE (dataset_id, name)
        );
        CREATE TABLE dataset_tags (
            dataset_id bigint NOT NULL REFERENCES datasets(id),
            tag text COLLATE "C" NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (dataset_id, tag)
        );
        CREATE INDEX dataset_tags_by_tag ON dataset_tags(tag, dataset_id);
        CREATE TABLE dataset_tag_revisions (
            project_id text COLLATE "C" PRIMARY KEY REFERENCES projects(id),
            revision bigint NOT NULL
        );

        -- Triggers keep label_counts, superseded names and revisions, and dataset versions
        -- right for every write path. An import sets sluice.bulk_import for its transaction
        -- and counts its instances in one aggregate at the end instead.
        CREATE FUNCTION sluice_count_instances() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.label_id IS NOT NULL AND OLD.deleted = 0 THEN
                UPDATE label_counts SET count = count - 1 WHERE file_id = OLD.file_id AND label_id = OLD.label_id;
                DELETE FROM label_counts WHERE file_id = OLD.file_id AND label_id = OLD.label_id AND count <= 0;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.label_id IS NOT NULL AND NEW.deleted = 0 THEN
                INSERT INTO label_counts (file_id, label_id, count) VALUES (NEW.file_id, NEW.label_id, 1)
                ON CONFLICT (file_id, label_id) DO UPDATE SET count = label_counts.count + 1;
            END IF;
            RETURN NULL;
        END $$;
        -- The WHEN test runs without entering PL/pgSQL: an import's rows cost next to nothing here.
        CREATE TRIGGER instances_count AFTER INSERT OR DELETE OR UPDATE OF file_id, label_id, deleted ON instances
            FOR EACH ROW WHEN (current_setting('sluice.bulk_import', true) IS DISTINCT FROM 'on')
            EXECUTE FUNCTION sluice_count_instances();

        CREATE FUNCTION sluice_keep_label_name() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO label_names (label_id, name, valid_to) VALUES (OLD.id, OLD.name, (SELECT seq FROM store_clock));
            RETURN NULL;
        END $$;
        CREATE TRIGGER labels_keep_names AFTER UPDATE OF name ON labels
            FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION sluice_keep_label_name();

        CREATE FUNCTION sluice_keep_file_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO file_revisions (file_id, revision, valid_to) VALUES (OLD.id, OLD.revision, (SELECT seq FROM store_clock));
            RETURN NULL;
        END $$;
        CREATE TRIGGER files_keep_revisions AFTER UPDATE OF revision ON files
            FOR EACH ROW WHEN (OLD.revision IS DISTINCT FROM NEW.revision) EXECUTE FUNCTION sluice_keep_file_revision();

        CREATE FUNCTION sluice_keep_dataset_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO dataset_versions (dataset_id, version, seq, file_count, removed_count)
            VALUES (NEW.id, NEW.version, (SELECT seq FROM store_clock), NEW.file_count, NEW.removed_count)
            ON CONFLICT (dataset_id, version) DO UPDATE
                SET seq = excluded.seq, file_count = excluded.file_count, removed_count = excluded.removed_count;
            RETURN NULL;
        END $$;
        CREATE TRIGGER datasets_first_version AFTER INSERT ON datasets
            FOR EACH ROW EXECUTE FUNCTION sluice_keep_dataset_version();
        CREATE TRIGGER datasets_keep_versions AFTER UPDATE OF version ON datasets
            FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION sluice_keep_dataset_version();
        """
}
