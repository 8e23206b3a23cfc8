/// A dataset's tags, as the API returns them after every tag read or write.
public struct DatasetTags: Sendable, Hashable, Codable {
    public var datasetID: Int64
    /// In byte order of their UTF-8.
    public var tags: [String]

    public init(datasetID: Int64, tags: [String]) {
        self.datasetID = datasetID
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case tags
        case datasetID = "dataset_id"
    }
}
