/// How many live instances of one label a dataset (or a slice of it) holds, and on how many
/// files: one bar of the label histogram (`GET /datasets/{id}/labels`).
public struct LabelTally: Sendable, Hashable, Codable {
    public var instances: Int
    public var files: Int

    public init(instances: Int = 0, files: Int = 0) {
        self.instances = instances
        self.files = files
    }

    public static func + (lhs: LabelTally, rhs: LabelTally) -> LabelTally {
        LabelTally(instances: lhs.instances + rhs.instances, files: lhs.files + rhs.files)
    }
}

/// A label with its tally, as the histogram route returns it.
public struct LabelTotal: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var color: String
    public var instances: Int
    public var files: Int

    public init(label: Label, tally: LabelTally) {
        id = label.id
        name = label.name
        color = label.color
        instances = tally.instances
        files = tally.files
    }
}

/// The histogram of a dataset or slice at one version: every label of the project then, in id
/// order, with zero tallies included so that a page can show what is absent.
public struct LabelTotals: Sendable, Hashable, Codable {
    public var datasetID: Int64
    public var version: Int64
    public var count: Int
    public var labels: [LabelTotal]

    public init(datasetID: Int64, version: Int64, count: Int, labels: [LabelTotal]) {
        self.datasetID = datasetID
        self.version = version
        self.count = count
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case version, count, labels
        case datasetID = "dataset_id"
    }
}

/// Instances and files per label id over `count` files, before labels are named.
public struct LabelTallies: Sendable, Hashable {
    public var count: Int
    public var byLabel: [Int64: LabelTally]

    public init(count: Int, byLabel: [Int64: LabelTally]) {
        self.count = count
        self.byLabel = byLabel
    }
}
