import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Media bytes sent from their file with sendfile(2), between the frames a stream writes.
///
/// Hummingbird's response writer takes `ByteBuffer`s only, and its HTTP codec sits between a
/// route and the socket, so a route cannot hand NIO a `FileRegion`. Instead a route writes a
/// *placeholder*: a slice, as long as the file, of one large buffer that is never filled (its
/// pages are never touched, so it costs address space, not memory). NIO's HTTP/1 encoder frames
/// it as a chunk of that length and passes it on untouched; `FileSender`, the handler next to
/// the socket, recognises the placeholder by its address, and writes the file's region in its
/// place. The placeholder's offset in the large buffer is its ticket in `FileSending.pending`.
///
/// Only a channel with a `FileSender` may be given placeholders (`FileSending.canSend`);
/// anywhere else (the in-memory router of the tests) the file is read into a buffer as before.
enum FileSending {
    /// Files above this are read into memory rather than sent (none of a stream's images is).
    static let maximumFileBytes = 64 << 20
    /// Tickets in flight at most: a ticket is the placeholder's offset.
    static let tickets = 1 << 20

    /// The buffer placeholders are sliced from: allocated once, never written.
    private static let placeholderStorage: (buffer: ByteBuffer, base: UInt) = {
        var buffer = ByteBufferAllocator().buffer(capacity: tickets + maximumFileBytes)
        buffer.moveWriterIndex(forwardBy: tickets + maximumFileBytes)
        let base = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        return (buffer, base)
    }()

    struct Pending {
        var handle: NIOFileHandle
        var length: Int
        var channel: ObjectIdentifier
    }

    private struct State {
        var next = 0
        var pending: [Int: Pending] = [:]
        var channels: Set<ObjectIdentifier> = []
        var sent = 0
    }

    private static let state = NIOLockedValueBox(State())

    /// Whether `channel` has a `FileSender` (a live server's connection).
    static func canSend(on channel: any Channel) -> Bool {
        state.withLockedValue { $0.channels.contains(ObjectIdentifier(channel)) }
    }

    /// The placeholder of the file at `path` for a write on `channel`; nil when the file is
    /// larger than a placeholder may be. The file is open from here until it is sent or the
    /// channel closes.
    static func placeholder(path: String, on channel: any Channel) throws -> ByteBuffer? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw StreamRoutes.BatchReader.mediaError("cannot open media file \(path): errno \(errno)")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw StreamRoutes.BatchReader.mediaError("cannot stat \(path): errno \(errno)")
        }
        let length = Int(status.st_size)
        guard length <= maximumFileBytes else {
            close(descriptor)
            return nil
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        let ticket = state.withLockedValue { state in
            var ticket = state.next
            while state.pending[ticket] != nil { ticket = (ticket + 1) % tickets }
            state.next = (ticket + 1) % tickets
            state.pending[ticket] = Pending(handle: handle, length: length, channel: ObjectIdentifier(channel))
            return ticket
        }
        return placeholderStorage.buffer.getSlice(at: ticket, length: length)!
    }

    /// The file a buffer written to the socket stands for, taken out of the pending ones; nil
    /// for every other buffer.
    static func take(_ buffer: ByteBuffer) -> Pending? {
        let address = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let base = placeholderStorage.base
        guard address >= base, address - base < UInt(tickets) else { return nil }
        let ticket = Int(address - base)
        return state.withLockedValue { state in
            guard let pending = state.pending[ticket], pending.length == buffer.readableBytes else { return nil }
            state.pending[ticket] = nil
            return pending
        }
    }

    static func opened(_ channel: any Channel) {
        state.withLockedValue { _ = $0.channels.insert(ObjectIdentifier(channel)) }
    }

    /// Forgets a closed channel, closing the files it never sent (a client that went away).
    static func closed(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let orphans = state.withLockedValue { state -> [NIOFileHandle] in
            state.channels.remove(id)
            let tickets = state.pending.filter { $0.value.channel == id }.map(\.key)
            return tickets.compactMap { state.pending.removeValue(forKey: $0)?.handle }
        }
        for handle in orphans { try? handle.close() }
    }

    /// Files sent with sendfile since the process started.
    static var sentCount: Int { state.withLockedValue { $0.sent } }

    static func didSend() { state.withLockedValue { $0.sent += 1 } }
}

/// Next to the socket: writes a placeholder's file region in its place, then closes the file.
final class FileSender: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    func handlerAdded(context: ChannelHandlerContext) { FileSending.opened(context.channel) }

    func handlerRemoved(context: ChannelHandlerContext) { FileSending.closed(context.channel) }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(let buffer) = unwrapOutboundIn(data), let file = FileSending.take(buffer) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.whenComplete { result in
            try? file.handle.close()
            if case .success = result { FileSending.didSend() }
        }
        let region = FileRegion(fileHandle: file.handle, readerIndex: 0, endIndex: file.length)
        context.write(wrapOutboundOut(.fileRegion(region)), promise: written)
    }
}

/// Hummingbird adds extra handlers after its HTTP codec; this one puts a `FileSender` at the
/// socket's end of the pipeline, where writes are bytes and file regions.
final class FileSenderInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(FileSender(), position: .first)
    }
}
