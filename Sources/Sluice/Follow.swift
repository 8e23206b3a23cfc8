extension Dataset {
    /// The dataset's items as annotation adds and changes them, in the order the changes
    /// were made: a sequence that never ends by itself, waiting on the server for the next
    /// change once it has delivered the last.
    ///
    /// ```swift
    /// for try await followed in dataset.follow(from: checkpoint.cursor) {
    ///     train(on: followed.item)
    ///     checkpoint.cursor = followed.cursor
    /// }
    /// ```
    ///
    /// Each element carries the cursor to resume after it. A lost connection, a 5xx reply or
    /// a restarted server is retried with the configuration's `RetryPolicy` from where the
    /// follower stood, so no item is lost or repeated; `SluiceError.unreachable` when the
    /// retries run out. Cancelling the consuming task ends the sequence.
    /// - Parameters:
    ///   - cursor: Where to go on from, as an element gave it; nil starts at the current end
    ///     of the dataset's change feed (changes from now on).
    ///   - includeExisting: When `cursor` is nil, first deliver every item that exists now
    ///     (kind `.existing`, in position order), then follow.
    ///   - wait: How long one request waits on the server for a change; the server cuts it
    ///     to 60 seconds. Shorter waits mean more requests, not fresher items.
    public func follow(
        from cursor: ChangeCursor? = nil, includeExisting: Bool = false, wait: Duration = .seconds(30)
    ) -> FollowStream {
        FollowStream(reader: reader, start: cursor, includeExisting: includeExisting, wait: max(.zero, wait))
    }
}

/// One item delivered by `Dataset.follow`.
public struct FollowedItem: Sendable, Hashable {
    /// Why the item is delivered.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// It existed when following began (`includeExisting`).
        case existing
        /// It was appended to the dataset.
        case added
        /// Its file or its instances changed.
        case changed
        /// Its file was removed from the dataset; `item` is the file as it was there, marked
        /// `isRemoved`. The position stays and reads as removed (docs/writes.md).
        case removed
    }

    public var kind: Kind
    /// The item's position in the dataset.
    public var position: Int
    /// The item as the server had it when it was fetched: the change, or a later state.
    public var item: Item
    /// Pass it to `Dataset.follow(from:)` to go on after this item.
    public var cursor: ChangeCursor
}

/// The items of a dataset's change feed, as `Dataset.follow` delivers them.
///
/// Memory is bounded: one page of changes and one page of items at a time, however large
/// a change (an import of a million files is one change of a million positions).
public struct FollowStream: AsyncSequence, Sendable {
    public typealias Element = FollowedItem

    let reader: PositionReader
    let start: ChangeCursor?
    let includeExisting: Bool
    let wait: Duration

    public func makeAsyncIterator() -> Iterator {
        Iterator(follower: Follower(reader: reader, cursor: start, includeExisting: includeExisting, wait: wait))
    }

    /// Yields the next item, fetching and waiting as needed.
    public struct Iterator: AsyncIteratorProtocol {
        var follower: Follower

        public mutating func next() async throws -> FollowedItem? {
            try await follower.next()
        }
    }
}

/// The state of one follower: where it stands and what it has read but not delivered.
struct Follower {
    let reader: PositionReader
    let includeExisting: Bool
    let wait: Duration
    /// Nil until the first `next()` has found where to start.
    var cursor: ChangeCursor?
    /// Changes read from the feed and not yet delivered in full, oldest first; the first is
    /// the first change after `cursor.seq`.
    var changes: [DatasetChange] = []
    /// Items fetched ahead within the part being delivered (a change, or the existing items),
    /// at consecutive positions. Never used across parts: a later change to the same
    /// position must be fetched again.
    var buffered: [Item] = []

    /// Changes one feed request asks for.
    static let changesPerRequest = 100
    /// Items one page request asks for.
    static let itemsPerRequest = 256

    init(reader: PositionReader, cursor: ChangeCursor?, includeExisting: Bool, wait: Duration) {
        self.reader = reader
        self.cursor = cursor
        self.includeExisting = includeExisting
        self.wait = wait
    }

    mutating func next() async throws -> FollowedItem? {
        if cursor == nil { cursor = try await startingCursor() }
        while true {
            try Task.checkCancellation()
            let at = cursor!
            if let end = at.existingEnd {
                let position = at.nextPosition ?? 0
                guard position < end else {
                    cursor = ChangeCursor(seq: at.seq)
                    buffered = []
                    continue
                }
                let item = try await item(at: position, before: end)
                cursor =
                    position + 1 < end
                    ? ChangeCursor(seq: at.seq, nextPosition: position + 1, existingEnd: end) : ChangeCursor(seq: at.seq)
                if position + 1 >= end { buffered = [] }
                // A removed position is not an existing item.
                if item.isRemoved { continue }
                return FollowedItem(kind: .existing, position: position, item: item, cursor: cursor!)
            }
            if let change = changes.first {
                let position = max(change.start, at.nextPosition ?? change.start)
                guard position < change.end else {
                    finish(change)
                    continue
                }
                let item = try await item(at: position, before: change.end)
                if position + 1 < change.end {
                    // Mid-change, the cursor stays before the change (no change of this dataset
                    // lies between it and the last delivered one) and says where in it to go on.
                    cursor = ChangeCursor(seq: change.seq - 1, nextPosition: position + 1, existingEnd: nil)
                } else {
                    finish(change)
                }
                let kind: FollowedItem.Kind =
                    switch change.kind {
                    case .added: .added
                    case .changed: .changed
                    case .removed: .removed
                    }
                return FollowedItem(kind: kind, position: position, item: item, cursor: cursor!)
            }
            let page = try await feed(since: at.seq, limit: Self.changesPerRequest, wait: wait)
            changes = page.changes.filter { $0.seq > at.seq }
        }
    }

    private mutating func finish(_ change: DatasetChange) {
        changes.removeFirst()
        cursor = ChangeCursor(seq: change.seq)
        buffered = []
    }

    /// Where to begin without a saved cursor: the feed's current end, preceded, with
    /// `includeExisting`, by the items that exist there.
    private func startingCursor() async throws -> ChangeCursor {
        let now = try await feed(since: nil, limit: 1, wait: .zero)
        // A change that committed while the server answered is after its cursor too:
        // start just before it, and it is delivered.
        let seq = now.changes.first.map { $0.seq - 1 } ?? now.cursor
        guard includeExisting else { return ChangeCursor(seq: seq) }
        let reader = self.reader
        let count = try await Self.retrying(reader.connection) { try await reader.count }
        // The items that existed at `seq` are the positions before the first append after
        // it: appends are dense and never move a position. The count may already include
        // such an append (it was read after `seq`); the feed says where it began.
        var end = count
        var scan = seq
        while true {
            let page = try await feed(since: scan, limit: Self.changesPerRequest, wait: .zero)
            if let added = page.changes.first(where: { $0.kind == .added }) {
                end = min(end, added.start)
                break
            }
            guard let last = page.changes.last else { break }
            scan = last.seq
        }
        return end > 0 ? ChangeCursor(seq: seq, nextPosition: 0, existingEnd: end) : ChangeCursor(seq: seq)
    }

    /// The item at `position`, from the pages of positions up to `end` fetched ahead.
    private mutating func item(at position: Int, before end: Int) async throws -> Item {
        if let first = buffered.first, position >= first.position, position - first.position < buffered.count {
            return buffered[position - first.position]
        }
        let reader = self.reader
        let range = position..<min(end, position + Self.itemsPerRequest)
        let page = try await Self.retrying(reader.connection) { try await reader.page(range) }
        guard let first = page.items.first, first.position == position else {
            throw SluiceError.badResponse("\(reader.route) has no item at position \(position), which its change feed names")
        }
        buffered = page.items
        return first
    }

    /// A page of the change feed; `since` nil asks for the feed's current end.
    private func feed(since: Int64?, limit: Int, wait requested: Duration) async throws -> ChangePage {
        // A waiting server sends nothing: the wait must end before the client's read timeout
        // takes the silence for a dead connection.
        // The server takes waits of at most a minute.
        let wait = min(requested, reader.connection.configuration.readTimeout * 0.8, .seconds(60))
        let (seconds, attoseconds) = wait.components
        var path = "\(reader.route)/changes?limit=\(limit)&wait=\(Double(seconds) + Double(attoseconds) / 1e18)"
        if let since { path += "&since=\(since)" }
        let connection = reader.connection
        // The request takes as long as the server waits, on top of the usual deadline.
        let timeout = wait + connection.configuration.requestTimeout
        return try await Self.retrying(connection) { try await connection.get(path, as: ChangePage.self, timeout: timeout) }
    }

    /// Runs `request`, trying again after a 5xx reply with the connection's retry policy.
    /// `Connection` itself retries lost connections and 502/503/504.
    private static func retrying<T>(_ connection: Connection, _ request: () async throws -> T) async throws -> T {
        let policy = connection.configuration.retry
        var attempt = 1
        while true {
            do {
                return try await request()
            } catch SluiceError.server(let status, _, _) where status >= 500 && attempt < policy.maxAttempts {
                try await Task.sleep(for: policy.delay(after: attempt))
                attempt += 1
            }
        }
    }
}
