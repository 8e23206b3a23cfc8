import NIOCore
import SluiceTensors

/// One item of a stream with its media bytes (nil when the file has none stored).
public struct StreamedItem: Sendable {
    public var item: Item
    public var media: [UInt8]?
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
    let media: Bool
    /// Counts the bytes received, when set.
    var progress: StreamProgress?

    func items(_ range: Range<Int>) async throws -> [Item] {
        try await fetch(range).map(\.item)
    }

    func fetch(_ range: Range<Int>) async throws -> [StreamedItem] {
        var received: [StreamedItem] = []
        received.reserveCapacity(range.count)
        var failures = 0
        while received.count < range.count {
            let start = range.lowerBound + received.count
            let before = received.count
            var parser = StreamParser(media: media)
            do {
                _ = try await connection.stream(path(start..<range.upperBound)) { chunk in
                    progress?.received(chunk.readableBytes)
                    try parser.consume(chunk) { received.append($0) }
                }
                guard received.count == range.count else {
                    throw Connection.TransientFailure(
                        reason: "the stream ended after \(received.count) of \(range.count) items")
                }
            } catch let failure as Connection.TransientFailure {
                // Progress resets the count: a long stream through a flaky link keeps going as
                // long as each try gets somewhere.
                failures = received.count > before ? 1 : failures + 1
                guard failures < connection.configuration.retry.maxAttempts else {
                    throw SluiceError.unreachable(host: connection.configuration.host, reason: failure.reason)
                }
                try await Task.sleep(for: connection.configuration.retry.delay(after: failures))
            }
        }
        return received
    }

    func path(_ range: Range<Int>) -> String {
        var query = "start=\(range.lowerBound)&end=\(range.upperBound)"
        for (name, value) in order.parameters { query += "&\(name)=\(value)" }
        if let version { query += "&version=\(version)" }
        if media { query += "&format=records" }
        return "\(route)/stream?\(query)"
    }
}

/// Cuts a stream body into items: NDJSON lines, or length-prefixed safetensors records
/// when the stream carries media. Holds at most one partial item between chunks.
struct StreamParser {
    let media: Bool
    private var pending = ByteBuffer()

    init(media: Bool) {
        self.media = media
    }

    mutating func consume(_ chunk: ByteBuffer, _ emit: (StreamedItem) -> Void) throws {
        if pending.readableBytes == 0 {
            pending = chunk
        } else {
            var chunk = chunk
            pending.writeBuffer(&chunk)
        }
        while let element = try nextElement() { emit(element) }
        if pending.readableBytes == 0 {
            pending.clear()
        } else if pending.readerIndex >= 1 << 16 {
            // Keep only the partial item: appending must not drag consumed bytes along.
            pending.discardReadBytes()
        }
    }

    private mutating func nextElement() throws -> StreamedItem? {
        media ? try nextRecord() : try nextLine()
    }

    private mutating func nextLine() throws -> StreamedItem? {
        guard let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = pending.readBytes(length: newline - pending.readerIndex)!
        pending.moveReaderIndex(forwardBy: 1)
        do {
            return StreamedItem(item: try WireDecoder.item(from: line), media: nil)
        } catch {
            throw SluiceError.badResponse("\(error)")
        }
    }

    /// A u64 length, then a safetensors record: its header says where the item's JSON and the
    /// image bytes are; the JSON is parsed in place and the image copied once.
    private mutating func nextRecord() throws -> StreamedItem? {
        guard let length = pending.getInteger(at: pending.readerIndex, endianness: .little, as: UInt64.self),
            pending.readableBytes >= 8 + Int(length)
        else { return nil }
        pending.moveReaderIndex(forwardBy: 8)
        var record = pending.readSlice(length: Int(length))!
        do {
            guard let headerLength = record.readInteger(endianness: .little, as: UInt64.self),
                headerLength <= record.readableBytes
            else { throw TensorRecordError.malformed("a header longer than its record") }
            let header = record.readBytes(length: Int(headerLength))!
            let layout = try TensorRecord.layout(header: header, dataBytes: record.readableBytes)
            guard let json = layout.tensors["item"] else { throw SluiceError.badResponse("a record without its item") }
            let item = try WireDecoder.item(
                from: record.getBytes(at: record.readerIndex + json.range.lowerBound, length: json.range.count)!)
            var media: [UInt8]?
            if let image = layout.tensors["image"] {
                media = record.getBytes(at: record.readerIndex + image.range.lowerBound, length: image.range.count)
            }
            return StreamedItem(item: item, media: media)
        } catch let error as SluiceError {
            throw error
        } catch {
            throw SluiceError.badResponse("\(error)")
        }
    }
}
