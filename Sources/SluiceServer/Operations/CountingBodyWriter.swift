import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// Passes a body through, adding up the bytes written.
struct CountingBodyWriter: ResponseBodyWriter {
    var parent: any ResponseBodyWriter
    let sent: NIOLockedValueBox<Int>

    mutating func write(_ buffer: ByteBuffer) async throws {
        sent.withLockedValue { $0 += buffer.readableBytes }
        try await parent.write(buffer)
    }

    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        let bytes = buffers.reduce(0) { $0 + $1.readableBytes }
        sent.withLockedValue { $0 += bytes }
        try await parent.write(contentsOf: buffers)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await parent.finish(trailingHeaders)
    }
}
