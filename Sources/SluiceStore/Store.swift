import SluiceModel
import SluiceQuery

/// The storage engine behind a server: projects, datasets, files, labels and instances.
///
/// Engines (SQLite embedded, PostgreSQL for several servers) pass one behavioural test suite.
public protocol Store: Sendable {
    /// Where media bytes live, shared by every server on this store.
    var media: MediaStore { get }

    /// Throws unless the store answers a query and its schema has every migration this build
    /// knows: what a server's `/readyz` reports.
    func checkReady() async throws
    /// The database's size in bytes, media excluded (a metric of `/metrics`).
    func databaseBytes() async throws -> Int64

    /// Creates the project, or returns the existing one with that id unchanged.
    func ensureProject(_ project: Project) async throws -> Project
    func project(id: String) async throws -> Project?
    func projects() async throws -> [Project]

    /// Creates the dataset, or returns the existing one of that name.
    func ensureDataset(projectID: String, name: String) async throws -> Dataset
    func dataset(id: Int64) async throws -> Dataset?
    func dataset(projectID: String, name: String) async throws -> Dataset?
    func datasets(projectID: String) async throws -> [Dataset]

    /// The project's labels in id order, each with its tensor `labels` index (`Label.index`).
    func labels(projectID: String) async throws -> [Label]
    /// The project's labels as they were at `version` (those that existed, by the names they
    /// had), in id order; `nil` is now.
    func labels(projectID: String, at version: VersionPoint?) async throws -> [Label]
    func attributeGroups(projectID: String) async throws -> [AttributeGroup]
    /// Creates an attribute group, or returns the existing one of that name unchanged.
    func ensureAttributeGroup(projectID: String, name: String, kind: AttributeKind, options: [String]) async throws
        -> AttributeGroup
    /// Instance counts per label for one file, as maintained on every write.
    func labelCounts(fileID: Int64) async throws -> [LabelCount]
    /// Live instances and files per label id over the dataset now, or over the files at
    /// `positions` of it (a slice): the label histogram. Labels no file carries are absent.
    func labelTallies(datasetID: Int64, positions: [Int]?) async throws -> [Int64: LabelTally]
    /// Label id → the id the label had in its imported file (COCO category ids), for labels
    /// that have one.
    func labelSourceIDs(projectID: String) async throws -> [Int64: Int64]
    /// Whether every file and live instance of the dataset (now, or at `version`) has a source
    /// id (`metadata.coco_id`) and no two share one.
    func checkSourceIDs(datasetID: Int64, at version: VersionPoint?) async throws -> SourceIDCheck

    func file(id: Int64) async throws -> File?
    /// The items at `range` of the dataset, in position order, clipped to the dataset's end.
    func storedItems(datasetID: Int64, range: Range<Int>) async throws -> [StoredItem]

    /// The dataset positions of the files the query accepts, ascending: a slice's materialised
    /// order. The store compiles the query in its own SQL dialect and chooses the plan.
    func matchingPositions(datasetID: Int64, query: CheckedQuery) async throws -> [Int]
    /// The items at the given dataset positions, in ascending position order.
    func storedItems(datasetID: Int64, positions: [Int]) async throws -> [StoredItem]
    /// The SQL a slice runs and the engine's plan for it, for `sluice query --explain`.
    func explainMatching(datasetID: Int64, query: CheckedQuery) async throws -> QueryPlan

    /// Runs `body` in one write transaction: everything it wrote is kept, or nothing is
    /// when it throws. The dataset's count and version are brought up to date at commit.
    func performImport<T: Sendable>(
        projectID: String, datasetName: String, _ body: @escaping @Sendable (any ImportWriter) throws -> T
    ) async throws -> T

    /// Adds one instance to a file (outside of imports) and advances the versions of the
    /// datasets that hold the file.
    func addInstance(_ instance: Instance) async throws -> Instance
    /// Soft-deletes an instance; label counts and dataset versions follow.
    func deleteInstance(id: Int64) async throws

    // MARK: Writes through the network (docs/writes.md)

    /// Appends files with their instances at the end of the dataset, in one transaction: all
    /// of them or, when any is refused, none. Their media must be in `media` already.
    /// Throws `StoreError.invalidField` naming the first field at fault (`files[2].instances[0].bbox`).
    func appendFiles(datasetID: Int64, _ files: [FileDraft], createLabels: Bool) async throws -> [AppendedFile]
    /// Adds, replaces, changes or deletes a file's instances in one transaction and returns the
    /// file as it then is. With `expectedRevision`, a file whose revision differs is refused
    /// with `StoreError.revisionMismatch` and nothing is written.
    func editInstances(fileID: Int64, _ edit: InstanceEdit, expectedRevision: Int64?, createLabels: Bool)
        async throws -> AnnotatedFile
    /// The file with its live instances.
    func annotatedFile(id: Int64) async throws -> AnnotatedFile?
    /// Removes files from a dataset in one transaction. Their positions stay, read as removed
    /// (docs/writes.md); the files, their instances and their places in other datasets stay.
    /// Throws `StoreError.invalidField` (`file_ids[2]`) for a file the dataset does not hold.
    func removeFiles(datasetID: Int64, fileIDs: [Int64]) async throws -> Dataset
    /// Appends files of the project to `datasetID`, and with `movingFrom` removes them from that
    /// dataset, in one transaction (Diffgram's copy and move between directories). A file is
    /// shared, not duplicated: its instances are the same in every dataset that holds it.
    func copyFiles(_ fileIDs: [Int64], into datasetID: Int64, movingFrom source: Int64?) async throws -> [AppendedFile]
    /// Creates a label; `StoreError.conflict` when the project has one of that name.
    func createLabel(projectID: String, _ label: NewLabel) async throws -> Label
    /// Deletes a label no live instance carries (`StoreError.conflict` otherwise). Its tensor
    /// index stays taken and versions before the deletion still list it (docs/writes.md).
    func deleteLabel(id: Int64, projectID: String) async throws
    /// Changes a label's colour (a rename goes through `renameLabel`, which keeps versions).
    func setLabelColor(id: Int64, projectID: String, color: String) async throws -> Label
    /// Creates an attribute group; `StoreError.conflict` when the project has one of that name.
    func createAttributeGroup(projectID: String, name: String, kind: AttributeKind, options: [String]) async throws
        -> AttributeGroup
    /// Renames a group or replaces its options. Instances key their values by the group's name,
    /// so a rename of a group that any instance carries is refused (`StoreError.conflict`).
    func updateAttributeGroup(id: Int64, projectID: String, name: String?, options: [String]?) async throws
        -> AttributeGroup
    /// Deletes a group no instance carries; `StoreError.conflict` otherwise.
    func deleteAttributeGroup(id: Int64, projectID: String) async throws

    // MARK: Dataset tags (docs/decisions.md, issue 20)

    /// The dataset's tags in byte order. Throws `StoreError.notFound` for an unknown dataset.
    func datasetTags(datasetID: Int64) async throws -> [String]
    /// Adds tags to a dataset (one it has already stays as it is) and returns all its tags, in
    /// one transaction. A tag is 1 to 256 bytes of UTF-8 without control characters:
    /// `StoreError.invalidField` names the first at fault (`tags[2]`), and nothing is written.
    /// No item, dataset version or change feed moves; `datasetTagsRevision` advances when a
    /// tag is new.
    func addDatasetTags(datasetID: Int64, _ tags: [String]) async throws -> [String]
    /// Removes one tag from a dataset and returns the tags left; `StoreError.notFound` when the
    /// dataset does not have it. Advances `datasetTagsRevision`, nothing else.
    func removeDatasetTag(datasetID: Int64, _ tag: String) async throws -> [String]
    /// A number that changes whenever a tag of any dataset of the project is added or removed
    /// (0 before the first): what a slice that tests `dataset.tag` keys its cache on, since
    /// tags are no part of a dataset's version.
    func datasetTagsRevision(projectID: String) async throws -> Int64

    /// Stores a server-wide admin key (`StoredAPIKey.projectID` nil).
    func insertServerKey(_ key: StoredAPIKey) async throws

    // MARK: Versions (docs/versions.md)

    /// Version `version` of a dataset, nil when it is unknown (from before versions were kept,
    /// or not reached yet).
    func versionPoint(datasetID: Int64, version: Int64) async throws -> VersionPoint?
    /// The items at `range` of the dataset as they were at `version`, clipped to its count then.
    func storedItems(datasetID: Int64, range: Range<Int>, at version: VersionPoint) async throws -> [StoredItem]
    /// The items at the given positions as they were at `version`, in ascending position order.
    func storedItems(datasetID: Int64, positions: [Int], at version: VersionPoint) async throws -> [StoredItem]
    /// Pins the dataset's current version under `name`; throws `StoreError.conflict` when the
    /// name is taken.
    func createSnapshot(datasetID: Int64, name: String) async throws -> Snapshot
    func snapshots(datasetID: Int64) async throws -> [Snapshot]
    func snapshot(datasetID: Int64, name: String) async throws -> Snapshot?
    /// The differences between two versions at the positions `range` (of the larger count),
    /// in position order: a page of a diff, so a diff of any size streams.
    func differences(from: VersionPoint, to: VersionPoint, positions range: Range<Int>) async throws -> [VersionDiffEntry]
    /// Renames a label; the items of the files with live instances of it change (and the
    /// versions of the datasets holding them advance), earlier versions keep the old name.
    func renameLabel(id: Int64, to name: String) async throws

    /// The dataset's changes with a sequence number above `cursor`, oldest first, at most
    /// `limit` of them. Every write records its changes in its own transaction, so a page
    /// never shows half of a write.
    func changes(datasetID: Int64, after cursor: Int64, limit: Int) async throws -> ChangePage
    /// The cursor at the end of the dataset's change feed now: reading after it returns only
    /// changes made later.
    func changeCursor(datasetID: Int64) async throws -> Int64
    /// Wakes the tasks of this process that wait for a dataset's changes, after each commit
    /// that recorded some. Writes by other processes on the same database are not seen here.
    var changeNotifier: ChangeNotifier { get }

    /// Makes a project public (readable without a key) or private. Throws `projectNotFound`.
    func setProjectPublic(id: String, isPublic: Bool) async throws
    /// Stores a new API key of an existing project. Throws `projectNotFound`.
    func insertAPIKey(_ key: StoredAPIKey) async throws
    /// The key with this client id, if any.
    func apiKey(clientID: String) async throws -> StoredAPIKey?

    /// How many of `fileIDs` (distinct) are files of the project.
    func countFiles(projectID: String, ids fileIDs: [Int64]) async throws -> Int
    /// Where a file sits: each dataset holding it and its position there, by dataset id.
    func placements(fileID: Int64) async throws -> [FilePlacement]
    /// The ids of the files at the given dataset positions, in ascending position order.
    func fileIDs(datasetID: Int64, positions: [Int]) async throws -> [Int64]
    /// The ids of the files at `range` of the dataset, in position order.
    func fileIDs(datasetID: Int64, range: Range<Int>) async throws -> [Int64]
}

/// One change to a file's instances (`Store.editInstances`).
public enum InstanceEdit: Sendable, Hashable {
    /// New instances beside the existing ones.
    case add([InstanceDraft])
    /// The file's whole annotation: every live instance is deleted and these take their place.
    case replaceAll([InstanceDraft])
    /// One instance changed. It gets a new id (the old row stays, closed, for the versions
    /// before the change), as Diffgram's instance history does.
    case update(id: Int64, InstanceDraft)
    /// Instances deleted.
    case delete(ids: [Int64])

    /// Whether a draft of the edit is a text span: only then is the file's text measured.
    var hasSpans: Bool {
        switch self {
        case .add(let drafts), .replaceAll(let drafts): drafts.contains { $0.geometry.span != nil }
        case .update(_, let draft): draft.geometry.span != nil
        case .delete: false
        }
    }
}

/// A file's place in one dataset.
public struct FilePlacement: Sendable, Hashable {
    public var datasetID: Int64
    public var position: Int

    public init(datasetID: Int64, position: Int) {
        self.datasetID = datasetID
        self.position = position
    }
}

extension Store {
    /// The item at one position, or nil past the end.
    public func storedItem(datasetID: Int64, position: Int) async throws -> StoredItem? {
        try await storedItems(datasetID: datasetID, range: position..<(position + 1)).first
    }

    /// Decoded items at `range` (tests, exports and other in-process readers).
    public func items(datasetID: Int64, range: Range<Int>) async throws -> [Item] {
        try await storedItems(datasetID: datasetID, range: range).map { try $0.decoded() }
    }
}

extension Store {
    /// The label histogram of a dataset, or of the files at `positions` of it, at `version`
    /// (nil: now). The current version reads the maintained counts; an older one has none of
    /// its own, so its items are read a page at a time and their instances counted (the way
    /// `matchingPositions(datasetID:datasetName:query:at:)` scans).
    public func labelTotals(in dataset: Dataset, positions: [Int]?, at version: VersionPoint?) async throws -> LabelTotals {
        let counted = try await labelTallies(in: dataset, positions: positions, at: version)
        return try await labelTotals(in: dataset, at: version, counted: counted)
    }

    /// `counted` with the names and colours of the project's labels at `version`: those change
    /// without a new dataset version, so a cache of the counts names them afresh each time.
    public func labelTotals(in dataset: Dataset, at version: VersionPoint?, counted: LabelTallies) async throws
        -> LabelTotals
    {
        let labels = try await labels(projectID: dataset.projectID, at: version)
        return LabelTotals(
            datasetID: dataset.id, version: version?.version ?? dataset.version, count: counted.count,
            labels: labels.map { LabelTotal(label: $0, tally: counted.byLabel[$0.id] ?? LabelTally()) })
    }

    /// The counting half of `labelTotals(in:positions:at:)`: instances and files per label id.
    public func labelTallies(in dataset: Dataset, positions: [Int]?, at version: VersionPoint?, pageSize: Int = 512)
        async throws -> LabelTallies
    {
        var tallies: [Int64: LabelTally] = [:]
        let count: Int
        if let version, version.version != dataset.version {
            func tally(_ items: [StoredItem]) throws {
                for stored in items where !stored.isRemoved {
                    var perLabel: [Int64: Int] = [:]
                    for instance in try stored.decoded().instances {
                        if let label = instance.labelID { perLabel[label, default: 0] += 1 }
                    }
                    for (label, instances) in perLabel {
                        tallies[label, default: LabelTally()] = tallies[label, default: LabelTally()]
                            + LabelTally(instances: instances, files: 1)
                    }
                }
            }
            if let positions {
                for start in stride(from: 0, to: positions.count, by: pageSize) {
                    try Task.checkCancellation()
                    let page = Array(positions[start..<min(positions.count, start + pageSize)])
                    try tally(try await storedItems(datasetID: dataset.id, positions: page, at: version))
                }
                count = positions.count
            } else {
                for start in stride(from: 0, to: version.count, by: pageSize) {
                    try Task.checkCancellation()
                    try tally(try await storedItems(datasetID: dataset.id, range: start..<(start + pageSize), at: version))
                }
                count = version.count
            }
        } else {
            tallies = try await labelTallies(datasetID: dataset.id, positions: positions)
            count = positions?.count ?? dataset.count
        }
        return LabelTallies(count: count, byLabel: tallies)
    }
}

/// How many live instances of one label a file has.
public struct LabelCount: Sendable, Hashable, Codable {
    public var fileID: Int64
    public var labelID: Int64
    public var count: Int

    public init(fileID: Int64, labelID: Int64, count: Int) {
        self.fileID = fileID
        self.labelID = labelID
        self.count = count
    }
}

/// Errors of the storage layer.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case projectNotFound(String)
    case datasetNotFound(String)
    case fileNotFound(Int64)
    case instanceNotFound(Int64)
    /// A label, attribute group or other record named by id that the project does not have.
    case notFound(String)
    case invalid(String)
    case conflict(String)
    /// A version number or snapshot name the dataset has no record of.
    case versionNotFound(String)
    /// A value of a write that is refused, with the path of the field at fault.
    case invalidField(FieldError)
    /// A conditional write named a revision the file no longer has.
    case revisionMismatch(fileID: Int64, current: Int64)

    public var description: String {
        switch self {
        case .projectNotFound(let id): "no project with id '\(id)'"
        case .datasetNotFound(let name): "no dataset '\(name)'"
        case .fileNotFound(let id): "no file with id \(id)"
        case .instanceNotFound(let id): "no instance with id \(id)"
        case .notFound(let message): message
        case .invalid(let message): message
        case .conflict(let message): message
        case .versionNotFound(let message): message
        case .invalidField(let error): error.description
        case .revisionMismatch(let fileID, let current):
            "file \(fileID) is at revision \(current): it changed since the revision this write names"
        }
    }
}

extension Store {
    /// The version `text` names in `dataset`: a version number, or the name of one of its
    /// snapshots. Throws `StoreError.versionNotFound` when the store has no record of it.
    public func versionPoint(of dataset: Dataset, named text: String) async throws -> VersionPoint {
        let version: Int64
        if let number = Int64(text) {
            version = number
        } else if let snapshot = try await snapshot(datasetID: dataset.id, name: text) {
            version = snapshot.version
        } else {
            throw StoreError.versionNotFound("dataset \(dataset.name) has no snapshot named '\(text)'")
        }
        guard let point = try await versionPoint(datasetID: dataset.id, version: version) else {
            throw StoreError.versionNotFound(
                "dataset \(dataset.name) has no version \(version) (versions are kept from the upgrade that added them on)")
        }
        return point
    }
}

/// Whether the source ids that importers keep (`file.metadata.coco_id`,
/// `instance.metadata.coco_id`) identify a dataset's files and live instances one to one:
/// an export gives them back only then (two imports into one dataset may reuse ids).
public struct SourceIDCheck: Sendable, Equatable {
    public var filesUnique: Bool
    public var instancesUnique: Bool

    public init(filesUnique: Bool, instancesUnique: Bool) {
        self.filesUnique = filesUnique
        self.instancesUnique = instancesUnique
    }
}

/// A readable version of a dataset: the store clock value its rows are read at, and its count.
public struct VersionPoint: Sendable, Hashable {
    public var datasetID: Int64
    public var version: Int64
    /// The store clock value (docs/versions.md) the version reads at.
    public var clock: Int64
    public var count: Int
    /// Positions below `count` whose file had been removed by then.
    public var removedCount: Int

    public init(datasetID: Int64, version: Int64, clock: Int64, count: Int, removedCount: Int = 0) {
        self.datasetID = datasetID
        self.version = version
        self.clock = clock
        self.count = count
        self.removedCount = removedCount
    }
}

extension Store {
    /// The dataset positions the query accepts at `version` (nil: now), ascending: the
    /// indexed SQL when that is the dataset's current version, else the scan below.
    public func matchingPositions(in dataset: Dataset, query: CheckedQuery, at version: VersionPoint?) async throws
        -> [Int]
    {
        guard let version, version.version != dataset.version else {
            return try await matchingPositions(datasetID: dataset.id, query: query)
        }
        return try await matchingPositions(datasetID: dataset.id, datasetName: dataset.name, query: query, at: version)
    }

    /// The dataset positions the query accepts at `version`, ascending: the reference
    /// evaluator over the version's items, a page at a time. An old version has no label
    /// counts of its own to index, so this is a scan; the server caches its result like any
    /// slice's (by dataset, version and query).
    public func matchingPositions(
        datasetID: Int64, datasetName: String, query: CheckedQuery, at version: VersionPoint, pageSize: Int = 512
    ) async throws -> [Int] {
        var positions: [Int] = []
        var start = 0
        // Membership of other datasets is not versioned: `dataset.*` tests see this one. Nor are
        // tags: `dataset.tag` tests see its tags as they are now.
        let holding = [HoldingDataset(id: datasetID, name: datasetName, tags: Set(try await datasetTags(datasetID: datasetID)))]
        while start < version.count {
            try Task.checkCancellation()
            for stored in try await storedItems(datasetID: datasetID, range: start..<(start + pageSize), at: version)
            where !stored.isRemoved {
                if query.matches(try stored.decoded(), datasets: holding) { positions.append(stored.position) }
            }
            start += pageSize
        }
        return positions
    }
}
