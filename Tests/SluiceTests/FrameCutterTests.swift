import NIOCore
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
        #expect(handed.storageCapacity == read.storageCapacity)
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
