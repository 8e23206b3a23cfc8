import NIOCore
import SluiceTensors

/// One item of a stream with its media bytes (nil when the file has none stored).
public struct StreamedItem: Sendable {
    public var item: Item
    /// The media bytes as received: a view of the response's buffer, not a copy.
    public var mediaBuffer: ByteBuffer?

    public init(item: Item, mediaBuffer: ByteBuffer?) {
        self.item = item
        self.mediaBuffer = mediaBuffer
    }

    public init(item: Item, media: [UInt8]?) {
        self.init(item: item, mediaBuffer: media.map { ByteBuffer(bytes: $0) })
    }

    /// The media bytes, copied out of the buffer.
    public var media: [UInt8]? {
        get { mediaBuffer.map { Array($0.readableBytesView) } }
        set { mediaBuffer = newValue.map { ByteBuffer(bytes: $0) } }
    }
}

/// Fetches ranges of an epoch's order from the stream endpoint, resuming a broken transfer
/// at the first item not yet received: a range always comes back whole, each item once.
struct RangeFetcher: Sendable {
    let connection: Connection
    /// `/api/v1/datasets/{id}` or `/api/v1/slices/{id}`.
    let route: String
    let order: StreamOrder
    /// The dataset version a slice stream reads; nil for datasets (positions never move).
    let version: Int64?
    /// Counts the bytes received, when set.
    var progress: StreamProgress?

    func fetch<Element: StreamElement>(_ range: Range<Int>, as _: Element.Type = Element.self) async throws -> [Element] {
        var received: [Element] = []
        received.reserveCapacity(range.count)
        try await fetch(range, query: Element.requestQuery, framed: Element.requestsFrames, keepingBytes: false) {
            (element: Element, _) in received.append(element)
        }
        return received
    }

    /// The elements of `range` with the bytes each came as (for the local cache).
    func fetchWithBytes<Element: StreamElement>(_ range: Range<Int>) async throws -> [(Element, ByteBuffer)] {
        var received: [(Element, ByteBuffer)] = []
        received.reserveCapacity(range.count)
        try await fetch(range, query: "format=\(Element.cacheFormat)", framed: false, keepingBytes: true) {
            (element: Element, bytes) in received.append((element, bytes!))
        }
        return received
    }

    private func fetch<Element: StreamElement>(
        _ range: Range<Int>, query: String, framed: Bool, keepingBytes: Bool, emit: (Element, ByteBuffer?) -> Void
    ) async throws {
        var count = 0
        var failures = 0
        while count < range.count {
            let start = range.lowerBound + count
            let before = count
            var parser = StreamParser<Element>(framed: framed)
            do {
                _ = try await connection.stream(path(start..<range.upperBound, query: query)) { chunk in
                    progress?.received(chunk.readableBytes)
                    try parser.consume(chunk, keepingBytes: keepingBytes) { element, bytes in
                        count += 1
                        emit(element, bytes)
                    }
                }
                guard count == range.count else {
                    throw Connection.TransientFailure(
                        reason: "the stream ended after \(count) of \(range.count) items")
                }
            } catch let failure as Connection.TransientFailure {
                // Progress resets the count: a long stream through a flaky link keeps going as
                // long as each try gets somewhere.
                failures = count > before ? 1 : failures + 1
                guard failures < connection.configuration.retry.maxAttempts else {
                    throw SluiceError.unreachable(host: connection.configuration.host, reason: failure.reason)
                }
                try await Task.sleep(for: connection.configuration.retry.delay(after: failures))
            }
        }
    }

    /// The stream request of `range`; `query` says the format (`format=…`, and its options).
    func path(_ range: Range<Int>, query format: String) -> String {
        var query = "start=\(range.lowerBound)&end=\(range.upperBound)"
        for (name, value) in order.parameters { query += "&\(name)=\(value)" }
        if let version { query += "&version=\(version)" }
        query += "&\(format)"
        return "\(route)/stream?\(query)"
    }
}

/// An element that may stand for a removed position (docs/writes.md): streams carry a marker
/// there so that positions are counted (for resuming), and iteration skips it.
protocol RemovalMarking {
    var marksRemovedPosition: Bool { get }
}

extension Item: RemovalMarking {
    var marksRemovedPosition: Bool { isRemoved }
}

extension StreamedItem: RemovalMarking {
    var marksRemovedPosition: Bool { item.isRemoved }
}

extension TensorRecord: RemovalMarking {
    var marksRemovedPosition: Bool { metadata["removed"] == "true" }
}

/// What a stream can carry, with how to cut one element off the front of a stream body.
protocol StreamElement: Sendable {
    /// The stream endpoint's `format` parameter and its options, as a query.
    static var requestQuery: String { get }
    /// The request asks for `frames` (else the element's other format).
    static var requestsFrames: Bool { get }
    /// The format the local cache keeps: one whose elements decode on their own, without
    /// what a response sends once (a frames response's label table).
    static var cacheFormat: String { get }
    /// The first element of `pending`, consumed from it; nil while it is not all there yet.
    static func next(from pending: inout ByteBuffer, _ context: inout StreamContext) throws -> Self?
    /// The element `pending` begins and `chunk` (the next one received) ends, cut without
    /// joining the two, both consumed; nil when the element does not end that way.
    static func next(from pending: inout ByteBuffer, tail chunk: inout ByteBuffer, _ context: inout StreamContext) throws
        -> Self?
    /// The file and revision the element shows, which key it in the local cache; nil when
    /// it must not be cached.
    var cacheIdentity: (fileID: Int64, revision: Int64)? { get }
}

extension StreamElement {
    static func next(from pending: inout ByteBuffer, tail chunk: inout ByteBuffer, _ context: inout StreamContext)
        -> Self?
    { nil }

    /// The first element of `pending`, which holds elements of `cacheFormat` (the cache's).
    static func next(from pending: inout ByteBuffer) throws -> Self? {
        var context = StreamContext(framed: false)
        return try next(from: &pending, &context)
    }
}

/// What an element's decoding needs from the response it is part of.
struct StreamContext {
    /// A frames response (else one of the element's cache format).
    let framed: Bool
    /// A frames response's label table (id → name), once its preamble is read.
    var labelNames: [Int64: String]?
}

/// Cuts a stream body into elements. Holds at most one partial element between chunks.
struct StreamParser<Element: StreamElement> {
    private var pending = ByteBuffer()
    private var context: StreamContext

    init(framed: Bool) {
        context = StreamContext(framed: framed)
    }

    /// Appends `chunk` and emits every element it completes; with `keepingBytes`, each with the
    /// bytes it came as (its framing included), which `Element.next` reads back.
    mutating func consume(_ chunk: ByteBuffer, keepingBytes: Bool = false, _ emit: (Element, ByteBuffer?) -> Void) throws {
        do {
            var chunk = chunk
            // An element whose last part came as a chunk of its own (a frame's media) is cut
            // from both, not copied into one buffer first.
            if pending.readableBytes > 0, !keepingBytes, let element = try Element.next(from: &pending, tail: &chunk, &context) {
                emit(element, nil)
            }
            if pending.readableBytes == 0 {
                pending = chunk
            } else {
                pending.writeBuffer(&chunk)
            }
            // A copy shares the storage; its reader index still marks where the element began
            // (ByteBuffer's getters read only readable bytes).
            var before = pending
            while let element = try Element.next(from: &pending, &context) {
                emit(element, keepingBytes ? before.readSlice(length: pending.readerIndex - before.readerIndex) : nil)
                before = pending
            }
        } catch let error as SluiceError {
            throw error
        } catch {
            throw SluiceError.badResponse("\(error)")
        }
        if pending.readableBytes == 0 {
            // Not clear(): emitted elements may still view this storage (a frame's media), and
            // clearing shared storage allocates its whole capacity again.
            pending = ByteBuffer()
        } else if pending.readerIndex >= 1 << 16 {
            // Keep only the partial element: appending must not drag consumed bytes along.
            pending.discardReadBytes()
        }
    }

    /// The next length-prefixed record of `pending`: a u64 little-endian length, then that many bytes.
    static func nextRecord(from pending: inout ByteBuffer) -> ByteBuffer? {
        guard let length = pending.getInteger(at: pending.readerIndex, endianness: .little, as: UInt64.self),
            pending.readableBytes >= 8 + Int(length)
        else { return nil }
        pending.moveReaderIndex(forwardBy: 8)
        return pending.readSlice(length: Int(length))!
    }
}

/// `frames` without media (the annotations alone, no JSON to parse), or NDJSON in the local
/// cache: one item per line.
extension Item: StreamElement {
    static var requestQuery: String { "format=frames&media=false" }
    static var requestsFrames: Bool { true }
    static var cacheFormat: String { "ndjson" }

    static func next(from pending: inout ByteBuffer, _ context: inout StreamContext) throws -> Item? {
        if context.framed { return try FrameCutter.next(from: &pending, &context)?.item }
        guard let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = pending.readBytes(length: newline - pending.readerIndex)!
        pending.moveReaderIndex(forwardBy: 1)
        return try WireDecoder.item(from: line)
    }

    // A removed position's marker is never cached: the file may be live elsewhere.
    var cacheIdentity: (fileID: Int64, revision: Int64)? { isRemoved ? nil : (file.id, file.revision) }
}

/// `frames` (`ItemFrame`s: the item's fields read in place, the image a view of the
/// received bytes), or `records` in the local cache: a safetensors record whose header says
/// where the item's JSON and the image bytes are.
extension StreamedItem: StreamElement {
    static var requestQuery: String { "format=frames" }
    static var requestsFrames: Bool { true }
    static var cacheFormat: String { "records" }

    static func next(from pending: inout ByteBuffer, tail chunk: inout ByteBuffer, _ context: inout StreamContext) throws
        -> StreamedItem?
    {
        guard context.framed else { return nil }
        return try FrameCutter.next(from: &pending, tail: &chunk, &context).map {
            StreamedItem(item: $0.item, mediaBuffer: $0.media)
        }
    }

    static func next(from pending: inout ByteBuffer, _ context: inout StreamContext) throws -> StreamedItem? {
        guard context.framed else { return try nextRecord(from: &pending) }
        return try FrameCutter.next(from: &pending, &context).map { StreamedItem(item: $0.item, mediaBuffer: $0.media) }
    }

    private static func nextRecord(from pending: inout ByteBuffer) throws -> StreamedItem? {
        guard var record = StreamParser<Self>.nextRecord(from: &pending) else { return nil }
        guard let headerLength = record.readInteger(endianness: .little, as: UInt64.self),
            headerLength <= record.readableBytes
        else { throw TensorRecordError.malformed("a header longer than its record") }
        let header = record.readBytes(length: Int(headerLength))!
        let layout = try TensorRecord.layout(header: header, dataBytes: record.readableBytes)
        guard let json = layout.tensors["item"] else { throw SluiceError.badResponse("a record without its item") }
        let item = try WireDecoder.item(
            from: record.getBytes(at: record.readerIndex + json.range.lowerBound, length: json.range.count)!)
        let media = layout.tensors["image"].map {
            record.getSlice(at: record.readerIndex + $0.range.lowerBound, length: $0.range.count)!
        }
        return StreamedItem(item: item, mediaBuffer: media)
    }

    var cacheIdentity: (fileID: Int64, revision: Int64)? { item.isRemoved ? nil : (item.file.id, item.file.revision) }
}

/// `tensors`: a record of the standard tensor keys (`ItemTensors`) and the image bytes.
extension TensorRecord: StreamElement {
    static var requestQuery: String { "format=tensors" }
    static var requestsFrames: Bool { false }
    static var cacheFormat: String { "tensors" }

    static func next(from pending: inout ByteBuffer, _: inout StreamContext) throws -> TensorRecord? {
        guard let record = StreamParser<Self>.nextRecord(from: &pending) else { return nil }
        return try TensorRecord(decoding: record.readableBytesView)
    }

    var cacheIdentity: (fileID: Int64, revision: Int64)? {
        guard let file = metadata["file_id"].flatMap({ Int64($0) }),
            let revision = metadata["revision"].flatMap({ Int64($0) })
        else { return nil }
        return (file, revision)
    }
}
