/// Where a follower of a dataset stands: save the one that comes with an item, pass it to
/// `Dataset.follow(from:)` later, and following goes on with the next item, none lost or
/// repeated. Codable, to be kept with a checkpoint.
public struct ChangeCursor: Sendable, Hashable, Codable {
    /// Every change of the dataset's feed up to this sequence number is delivered in full.
    public var seq: Int64
    /// Set while the first change after `seq` (or the existing items) is delivered in part:
    /// the next position of it to deliver.
    public var nextPosition: Int?
    /// Set while the items that existed when following began are delivered
    /// (`includeExisting`): they are the positions before this one, and come before any
    /// change after `seq`.
    public var existingEnd: Int?

    /// A cursor at `seq` of the feed, as `GET /api/v1/datasets/{id}/changes` replies give it.
    public init(seq: Int64) {
        self.init(seq: seq, nextPosition: nil, existingEnd: nil)
    }

    init(seq: Int64, nextPosition: Int?, existingEnd: Int?) {
        self.seq = seq
        self.nextPosition = nextPosition
        self.existingEnd = existingEnd
    }

    enum CodingKeys: String, CodingKey {
        case seq
        case nextPosition = "next_position"
        case existingEnd = "existing_end"
    }
}
