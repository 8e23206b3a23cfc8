/// A file at a position of a dataset, with its instances: what streaming delivers.
public struct Item: Sendable, Hashable, Codable {
    /// Position in the dataset (or slice) it was read from.
    public var position: Int
    public var file: File
    /// Live (not deleted) instances, in id order.
    public var instances: [Instance]
    /// The file was removed from the dataset; the position keeps it, marked (docs/writes.md).
    /// Iteration skips such items; pages and the change feed show them.
    public var isRemoved: Bool

    public init(position: Int, file: File, instances: [Instance], isRemoved: Bool = false) {
        self.position = position
        self.file = file
        self.instances = instances
        self.isRemoved = isRemoved
    }

    enum CodingKeys: String, CodingKey {
        case position, file, instances
        case isRemoved = "removed"
    }

    // By hand so that `removed` is written only when true and read as false when absent.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        position = try c.decode(Int.self, forKey: .position)
        file = try c.decode(File.self, forKey: .file)
        instances = try c.decode([Instance].self, forKey: .instances)
        isRemoved = try c.decodeIfPresent(Bool.self, forKey: .isRemoved) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(position, forKey: .position)
        try c.encode(file, forKey: .file)
        try c.encode(instances, forKey: .instances)
        if isRemoved { try c.encode(true, forKey: .isRemoved) }
    }
}

/// A half-open range of positions, `start..<end`.
public struct PositionRange: Sendable, Hashable, Codable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public init(_ range: Range<Int>) { self.init(start: range.lowerBound, end: range.upperBound) }

    public var range: Range<Int> { start..<end }
    public var count: Int { max(0, end - start) }
}

/// A page of items for a position range, with the dataset's total count.
public struct ItemPage: Sendable, Hashable, Codable {
    public var datasetID: Int64
    public var start: Int
    public var end: Int
    /// Files in the whole dataset, so a client learns where to stop.
    public var count: Int
    public var items: [Item]

    public init(datasetID: Int64, start: Int, end: Int, count: Int, items: [Item]) {
        self.datasetID = datasetID
        self.start = start
        self.end = end
        self.count = count
        self.items = items
    }

    enum CodingKeys: String, CodingKey {
        case start, end, count, items
        case datasetID = "dataset_id"
    }
}

/// The JSON body of every error response: `{"error": {"code", "message", "detail"}}`.
public struct ErrorResponse: Sendable, Hashable, Codable {
    public struct Body: Sendable, Hashable, Codable {
        /// A stable, machine-readable code such as `position_out_of_range`.
        public var code: String
        /// One human-readable sentence.
        public var message: String
        public var detail: JSONValue?

        public init(code: String, message: String, detail: JSONValue? = nil) {
            self.code = code
            self.message = message
            self.detail = detail
        }
    }

    public var error: Body

    public init(code: String, message: String, detail: JSONValue? = nil) {
        error = Body(code: code, message: message, detail: detail)
    }
}

/// A count, as `GET …/count` returns it.
public struct CountResponse: Sendable, Hashable, Codable {
    public var count: Int
    public init(count: Int) { self.count = count }
}

/// A slice as the API returns it: its id, the dataset it selects from, the normalised query,
/// and the dataset version and count it was materialised at.
public struct SliceInfo: Sendable, Hashable, Codable {
    public var id: String
    public var datasetID: Int64
    public var query: String
    public var version: Int64
    public var count: Int

    public init(id: String, datasetID: Int64, query: String, version: Int64, count: Int) {
        self.id = id
        self.datasetID = datasetID
        self.query = query
        self.version = version
        self.count = count
    }

    enum CodingKeys: String, CodingKey {
        case id, query, version, count
        case datasetID = "dataset_id"
    }
}

/// A slice's SQL and the engine's plan for it (`GET /slices/{id}/explain`).
public struct QueryPlan: Sendable, Hashable, Codable {
    public var sql: String
    public var plan: [String]

    public init(sql: String, plan: [String]) {
        self.sql = sql
        self.plan = plan
    }
}
