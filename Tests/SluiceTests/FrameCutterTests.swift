import Foundation
import NIOCore
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import Sluice

/// What an image handed out by a frames stream keeps alive: a view of the socket read it came
/// in, unless that read is many times larger than the image.
@Suite struct FrameCutterTests {
    static func read(_ size: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeBytes((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        return buffer
    }

    @Test func anImageAboutTheSizeOfItsReadIsAViewOfIt() {
        let read = Self.read(256 << 10)
        let image = read.getSlice(at: 1000, length: 100_000)!
        let handed = FrameCutter.media(image)
        #expect(handed == image)
        #expect(handed.withUnsafeReadableBytes { $0.baseAddress } == image.withUnsafeReadableBytes { $0.baseAddress })
        let small = Self.read(32 << 10)
        #expect(FrameCutter.media(small.getSlice(at: 10, length: 5_000)!).storageCapacity == small.storageCapacity)
    }

    @Test func aSmallImageInALargeReadIsCopiedOut() {
        let read = Self.read(256 << 10)
        let image = read.getSlice(at: 70_000, length: 5_000)!
        let handed = FrameCutter.media(image)
        #expect(handed == image)
        #expect(handed.storageCapacity < 64 << 10)
    }
}

/// A media frames stream cut into elements wherever its chunks end: the same items and media,
/// and a frame whose media came as a chunk of its own (as the server sends it) hands out a
/// view of that chunk, not a copy joined to the frame's first part.
@Suite struct FrameStreamCuttingTests {
    static func cut(_ chunks: [ByteBuffer]) throws -> [StreamedItem] {
        var parser = StreamParser<StreamedItem>(framed: true)
        var items: [StreamedItem] = []
        for chunk in chunks { try parser.consume(chunk) { element, _ in items.append(element) } }
        return items
    }

    @Test func mediaFramesCutTheSameWhereverTheChunksEnd() async throws {
        try await withTemporaryStore(.sqlite) { store, _ in
            try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                let connection = Connection(configuration: ClientConfiguration(host: host))
                // As received: the frame's first part and its media arrive as chunks of their own.
                var received: [ByteBuffer] = []
                _ = try await connection.stream("/api/v1/datasets/\(dataset.id)/stream?format=frames&media=true") {
                    received.append($0)
                }
                var body = ByteBuffer()
                for var chunk in received { body.writeBuffer(&chunk) }
                let whole = try Self.cut([body])
                #expect(whole.count == 9)
                #expect(whole.allSatisfy { ($0.mediaBuffer?.readableBytes ?? 0) > 10_000 })

                func same(_ items: [StreamedItem]) -> Bool {
                    items.map(\.item) == whole.map(\.item) && items.map(\.mediaBuffer) == whole.map(\.mediaBuffer)
                }
                // The frames' parts one chunk each, as the server writes them (HTTP chunks).
                let bytes = Array(body.readableBytesView)
                var parts: [ByteBuffer] = []
                var probe = body
                let preamble = 12 + Int(probe.getInteger(at: 8, endianness: .little, as: UInt32.self)!)
                // Each part in storage of its own, as a socket read of it would be.
                parts.append(ByteBuffer(bytes: probe.readBytes(length: preamble)!))
                while probe.readableBytes > 0 {
                    let length = Int(probe.getInteger(at: probe.readerIndex, endianness: .little, as: UInt32.self)!)
                    let media = Int(probe.getInteger(at: probe.readerIndex + 4 + 32, endianness: .little, as: UInt32.self)!)
                    parts.append(ByteBuffer(bytes: probe.readBytes(length: 4 + length - media)!))
                    parts.append(ByteBuffer(bytes: probe.readBytes(length: media)!))
                }
                let split = try Self.cut(parts)
                #expect(same(split))
                for (item, part) in zip(split, stride(from: 2, to: parts.count, by: 2).map { parts[$0] }) {
                    // The media is the chunk it came in (the same bytes in memory), not a copy.
                    let handed = item.mediaBuffer?.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
                    #expect(handed == part.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) })
                }
                // Cut anywhere else: 1, 7 and 4,096 bytes at a time, and at random.
                for size in [1, 7, 4096] {
                    let chunks = stride(from: 0, to: bytes.count, by: size).map {
                        ByteBuffer(bytes: bytes[$0..<min($0 + size, bytes.count)])
                    }
                    #expect(same(try Self.cut(chunks)), "chunks of \(size)")
                }
                var generator = SplitMix64(seed: 5)
                for _ in 0..<10 {
                    let cuts = (0..<40).map { _ in Int(generator.next() % UInt64(bytes.count)) }.sorted()
                    let bounds = [0] + cuts + [bytes.count]
                    let chunks = zip(bounds, bounds.dropFirst()).map { ByteBuffer(bytes: bytes[$0..<$1]) }
                    #expect(same(try Self.cut(chunks)))
                }
            }
        }
    }
}
