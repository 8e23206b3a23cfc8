import NIOCore
import SluiceModel

/// Cuts `ItemFrame`s (after the response's preamble) off a frames stream.
enum FrameCutter {
    /// The next frame's item and media bytes (a view of `pending`'s storage, not a copy).
    static func next(from pending: inout ByteBuffer, _ context: inout StreamContext) throws -> (item: Item, media: ByteBuffer?)? {
        if context.labelNames == nil {
            guard let names = try preamble(from: &pending) else { return nil }
            context.labelNames = names
        }
        guard let length = pending.getInteger(at: pending.readerIndex, endianness: .little, as: UInt32.self) else {
            return nil
        }
        guard Int(length) <= ItemFrame.maximumFrameBytes else {
            throw ItemFrameError("a frame of \(length) bytes")
        }
        guard pending.readableBytes >= 4 + Int(length) else {
            // The frame's bytes will be appended here: room for all of them at once; unless all
            // but its media is here, which the next chunk may bring whole (`next(from:tail:_:)`).
            let media = pending.getInteger(at: pending.readerIndex + 4 + 32, endianness: .little, as: UInt32.self)
            if media.map({ pending.readableBytes != 4 + Int(length) - Int($0) }) ?? true {
                pending.reserveCapacity(minimumWritableBytes: 4 + Int(length) - pending.readableBytes)
            }
            return nil
        }
        pending.moveReaderIndex(forwardBy: 4)
        let frame = pending.readSlice(length: Int(length))!
        let (item, media) = try frame.withUnsafeReadableBytes { body in
            try ItemFrame.item(from: body, labelNames: context.labelNames ?? [:])
        }
        return (item, media.map { Self.media(frame.getSlice(at: frame.readerIndex + $0.lowerBound, length: $0.count)!) })
    }

    /// The next frame when `pending` holds all of it but its media and `chunk` begins with the
    /// media: the item read from `pending`, the media a view of `chunk`, both consumed. The
    /// server sends a frame's media as an HTTP chunk of its own (sendfile), so this is how most
    /// media frames arrive; joining the two would copy every image. Nil when it is not so.
    static func next(
        from pending: inout ByteBuffer, tail chunk: inout ByteBuffer, _ context: inout StreamContext
    ) throws -> (item: Item, media: ByteBuffer)? {
        let at = pending.readerIndex
        guard let labelNames = context.labelNames, pending.readableBytes >= 4 + ItemFrame.headerSize,
            let length = pending.getInteger(at: at, endianness: .little, as: UInt32.self).map(Int.init),
            length <= ItemFrame.maximumFrameBytes,
            let mediaLength = pending.getInteger(at: at + 4 + 32, endianness: .little, as: UInt32.self).map(Int.init),
            mediaLength > 0, mediaLength <= length, pending.readableBytes == 4 + length - mediaLength,
            chunk.readableBytes >= mediaLength,
            let flags = pending.getInteger(at: at + 4 + 30, as: UInt8.self), flags & ItemFrame.mediaFlag != 0
        else { return nil }
        let item = try pending.withUnsafeReadableBytes { bytes in
            try ItemFrame.item(
                fromPrefix: UnsafeRawBufferPointer(rebasing: bytes[4...]), mediaLength: mediaLength, labelNames: labelNames)
        }
        pending.moveReaderIndex(forwardBy: pending.readableBytes)
        return (item, media(chunk.readSlice(length: mediaLength)!))
    }

    /// The media bytes as they are handed out: a view of the received buffer, unless the
    /// buffer is much larger than they are. A view keeps its whole socket read (up to 256 KB)
    /// alive, so a small image kept by the caller would hold many times its size; those few
    /// bytes are copied instead, and what an item holds stays within 4× its media.
    static func media(_ view: ByteBuffer) -> ByteBuffer {
        guard view.storageCapacity > 4 * max(view.readableBytes, 16 << 10) else { return view }
        var copy = ByteBufferAllocator().buffer(capacity: view.readableBytes)
        copy.writeImmutableBuffer(view)
        return copy
    }

    /// The label table of a frames response's preamble, consumed; nil while it is not all there.
    private static func preamble(from pending: inout ByteBuffer) throws -> [Int64: String]? {
        let magic = ItemFrame.magic.count
        guard let bytes = pending.getBytes(at: pending.readerIndex, length: magic),
            let length = pending.getInteger(at: pending.readerIndex + magic, endianness: .little, as: UInt32.self)
        else { return nil }
        guard bytes == ItemFrame.magic else { throw ItemFrameError("the response does not begin with the frames preamble") }
        guard Int(length) <= ItemFrame.maximumPreambleBytes else { throw ItemFrameError("a preamble of \(length) bytes") }
        guard let json = pending.getBytes(at: pending.readerIndex + magic + 4, length: Int(length)) else { return nil }
        pending.moveReaderIndex(forwardBy: magic + 4 + Int(length))
        return try ItemFrame.labelNames(fromPreamble: json)
    }
}
