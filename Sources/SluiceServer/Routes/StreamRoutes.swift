import HTTPTypes
import Hummingbird
import NIOCore
import SluiceModel
import SluiceStore
import SluiceTensors
import NIOPosix
#if canImport(Glibc)
    import Glibc
    private let systemRead = Glibc.read
#elseif canImport(Darwin)
    import Darwin
    private let systemRead = Darwin.read
#endif

/// `/datasets/{id}/stream` and `/slices/{token}/stream`: the items of a range of an epoch's
/// order (see `StreamOrder`) as one chunked response, written as they are read.
///
/// Memory per stream is two batches: the one being written and the one being read. Writes
/// wait for the socket (Hummingbird's writer applies the channel's backpressure), so a slow
/// client slows the reads down instead of filling the server.
struct StreamRoutes {
    let api: APIContext

    /// Items read from the store per batch: large enough that a batch is one query, small
    /// enough that the first bytes leave quickly (and, with media, that a batch's files stay
    /// a few megabytes).
    static func batchSize(_ format: Format, withMedia: Bool) -> Int { format == .ndjson || !withMedia ? 64 : 16 }

    /// What a stream reads from: a dataset's positions, or a slice's list of them.
    struct Source: Sendable {
        var datasetID: Int64
        var projectID: String
        var version: Int64
        /// The slice's dataset positions; nil for a dataset stream.
        var slicePositions: [Int]?
        var count: Int
        /// The pinned version items are read at; nil for the current rows.
        var pinned: VersionPoint? = nil
    }

    enum Format: String {
        case ndjson
        /// `u64` little-endian length + a safetensors record per item: the `item` tensor (U8)
        /// holds the item's JSON, the `image` tensor (U8) the media bytes when stored, and
        /// `__metadata__` the file id and the position.
        case records
        /// `u64` little-endian length + a safetensors record per item with the standard
        /// tensor keys of `ItemTensors` and the media bytes as `image`: what training reads.
        case tensors
        /// The preamble (`ItemFrame.magic`, the label table) and an `ItemFrame` per item with
        /// its media bytes: the records' content without JSON per item (docs/http-api.md).
        case frames

        var contentType: String {
            switch self {
            case .ndjson: "application/x-ndjson"
            case .records, .tensors: "application/vnd.sluice.records"
            case .frames: "application/vnd.sluice.frames"
            }
        }
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.get("/datasets/{id}/stream") { request, context in
            let dataset = try await DatasetRoutes.dataset(api.store, context)
            let pinned = try await VersionRoutes.requested(api.store, dataset, request)
            let source = Source(
                datasetID: dataset.id, projectID: dataset.projectID, version: pinned?.version ?? dataset.version,
                slicePositions: nil, count: pinned?.count ?? dataset.count, pinned: pinned)
            return try await Self.stream(api, request, context, source)
        }
        registry.get("/slices/{token}/stream") { request, context in
            let (token, dataset) = try await SliceRoutes.tokenAndDataset(api, context)
            if token.version != nil {
                // A slice pinned to a version: its positions and items are that version's, always.
                let resolved = try await SliceRoutes.resolve(api, context)
                let source = Source(
                    datasetID: dataset.id, projectID: dataset.projectID, version: resolved.version,
                    slicePositions: resolved.positions, count: resolved.positions.count, pinned: resolved.pinned)
                return try await Self.stream(api, request, context, source)
            }
            let pinned = Int64(try request.integer("version", default: Int(dataset.version)))
            if pinned == dataset.version {
                let positions = try await SliceRoutes.resolve(api, dataset: dataset, query: token.query).positions
                let source = Source(
                    datasetID: dataset.id, projectID: dataset.projectID, version: pinned, slicePositions: positions,
                    count: positions.count)
                return try await Self.stream(api, request, context, source)
            }
            // An epoch that began at an older version reads that version: its positions (the
            // cached list while it is held, else the version's slice computed again) and its
            // items, so nothing moves or changes under a running epoch. Reading the current rows
            // while the dataset is still at that version gave the same bytes.
            guard let point = try await api.store.versionPoint(datasetID: dataset.id, version: pinned) else {
                throw APIError(
                    .conflict, code: "version_changed",
                    message: "the dataset is at version \(dataset.version) and has no record of version \(pinned); "
                        + "start the epoch again",
                    detail: .object(["version": .number(Double(dataset.version))]))
            }
            let resolved = try await SliceRoutes.resolve(api, dataset: dataset, query: token.query, at: point)
            let source = Source(
                datasetID: dataset.id, projectID: dataset.projectID, version: pinned, slicePositions: resolved.positions,
                count: resolved.positions.count, pinned: point)
            return try await Self.stream(api, request, context, source)
        }
    }

    static func stream(_ api: APIContext, _ request: Request, _ context: SluiceRequestContext, _ source: Source)
        async throws -> Response
    {
        let parameters = request.formQuery.all
        let order: StreamOrder
        do {
            order = try StreamOrder(parameters: parameters, defaultCount: source.count, maximumCount: source.count)
        } catch {
            throw error.isMalformed
                ? APIError.badParameter(error.parameter, error.message)
                : APIError.unprocessableParameter(error.parameter, error.message)
        }
        let formatText = parameters["format"] ?? Format.ndjson.rawValue
        guard let format = Format(rawValue: formatText) else {
            throw APIError.badParameter("format", "expected ndjson, records, tensors or frames, got '\(formatText)'")
        }
        let length = order.length
        let start = try request.integer("start", default: 0)
        let end = try request.integer("end", default: max(start, length))
        guard start >= 0 else { throw APIError.badParameter("start", "must not be negative") }
        guard end >= 0 else { throw APIError.badParameter("end", "must not be negative") }
        // An end before start asks for nothing, as a page does.
        // Clipped to the order, so no batch arithmetic starts near Int.max.
        let first = min(start, length)
        let range = first..<max(first, min(end, length))
        let headers: HTTPFields = [
            .contentType: format.contentType,
            .sluiceStart: String(range.lowerBound),
            .sluiceEnd: String(range.upperBound),
            .sluiceLength: String(length),
            .sluiceCount: String(order.count),
            .sluiceVersion: String(source.version),
        ]
        // Label indices are places among every label the project has had, in id order: read
        // once per stream, they stay valid for it (new labels append, deleted ones keep theirs).
        // A pinned stream reads the labels of its version: one deleted since is still there.
        let labels = format == .tensors || format == .frames
            ? try await api.store.labels(projectID: source.projectID, at: source.pinned) : []
        // Frames may leave the media out: the annotations alone, in binary.
        let withMedia = try request.boolean("media", default: true)
        guard withMedia || format == .frames else {
            throw APIError.unprocessableParameter("media", "only format=frames can leave the media out")
        }
        // Frames may carry the standard tensors instead of the instances: what training reads.
        let withTensors = try request.boolean("tensors", default: false)
        guard !withTensors || format == .frames else {
            throw APIError.unprocessableParameter("tensors", "only format=frames takes tensors (format=tensors has them)")
        }
        let reader = BatchReader(
            store: api.store, source: source, order: order, format: format, withMedia: withMedia,
            withTensors: withTensors, fileSender: FileSending.canSend(on: context.channel) ? context.channel : nil,
            labelIndex: Dictionary(uniqueKeysWithValues: labels.map { ($0.id, $0.index ?? 0) }),
            labelNames: Dictionary(labels.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first }))
        let preamble = format == .frames ? FrameEncoding.preamble(labels: labels) : nil
        let batchSize = Self.batchSize(format, withMedia: withMedia)
        // Held by the body until it is written or dropped, whichever comes first.
        let slot = try api.streamSlots.take(for: context.remoteAddress?.ipAddress ?? "unknown")
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [metrics = api.metrics] writer in
                metrics.openStreams.increment()
                var items = 0, bytes = 0
                defer {
                    slot.release()
                    metrics.openStreams.decrement()
                    metrics.recordStreamed(items: items, bytes: bytes, format: format.rawValue)
                }
                if let preamble {
                    try await writer.write(preamble)
                    bytes += preamble.readableBytes
                }
                var batchStart = range.lowerBound
                var batch = try await reader.encode(batchStart..<min(range.upperBound, batchStart + batchSize))
                while true {
                    let written = min(range.upperBound, batchStart + batchSize) - batchStart
                    batchStart += batchSize
                    // The next batch is read while this one is written.
                    let next = batchStart < range.upperBound ? batchStart..<min(range.upperBound, batchStart + batchSize) : nil
                    async let following = reader.encode(next)
                    try await writer.write(contentsOf: batch)
                    items += max(0, written)
                    bytes += batch.reduce(0) { $0 + $1.readableBytes }
                    guard let encoded = try await following else { break }
                    batch = encoded
                }
                try await writer.finish(nil)
            })
    }

    /// Reads a batch of the order from the store and encodes it.
    struct BatchReader: Sendable {
        let store: any Store
        let source: Source
        let order: StreamOrder
        let format: Format
        let withMedia: Bool
        let withTensors: Bool
        /// The connection, when media goes out with sendfile (`FileSending`); nil: read it.
        let fileSender: (any Channel)?
        let labelIndex: [Int64: Int]
        let labelNames: [Int64: String]

        func encode(_ indices: Range<Int>?) async throws -> [ByteBuffer]? {
            guard let indices else { return nil }
            return try await encode(indices)
        }

        /// The batch's bytes: one buffer of NDJSON lines, or per record its header and the
        /// media file's bytes as read (written out as they are, not copied together).
        func encode(_ indices: Range<Int>) async throws -> [ByteBuffer] {
            let positions = order.positions(indices)
            let datasetPositions = source.slicePositions.map { list in positions.map { list[$0] } } ?? positions
            let stored = try await read(datasetPositions)
            var items: [StoredItem] = []
            items.reserveCapacity(positions.count)
            for (index, datasetPosition) in datasetPositions.enumerated() {
                guard var item = stored[datasetPosition] else {
                    throw APIError.notFound("position \(positions[index]) is gone")
                }
                item.position = positions[index]
                items.append(item)
            }
            switch format {
            case .ndjson:
                var out = JSONOutput(capacity: items.count * 2048)
                for item in items {
                    out.item(item)
                    out.raw(UInt8(ascii: "\n"))
                }
                return [ByteBuffer(bytes: out.bytes)]
            case .frames:
                let media = withMedia ? try await readMedia(of: items) : Array(repeating: nil, count: items.count)
                // Frames accumulate in one buffer until a media file must follow one.
                var buffers: [ByteBuffer] = []
                var frames = ByteBufferAllocator().buffer(capacity: media.allSatisfy { $0 == nil } ? items.count * 640 : 1024)
                for (item, bytes) in zip(items, media) {
                    // A removed position's tensor frame holds no tensors.
                    let tensors = !withTensors ? nil
                        : item.isRemoved ? ItemTensors(instances: [], imageID: item.file.id, labelIndex: [:])
                        : try TensorEncoding.tensors(item, labelIndex: labelIndex).0
                    FrameEncoding.writeFramePrefix(
                        item, labelNames: labelNames, tensors: tensors, mediaBytes: bytes?.readableBytes, into: &frames)
                    if let bytes {
                        buffers += [frames, bytes]
                        frames = ByteBufferAllocator().buffer(capacity: 1024)
                    }
                }
                if frames.readableBytes > 0 { buffers.append(frames) }
                return buffers
            case .records, .tensors:
                let media = try await readMedia(of: items)
                var buffers: [ByteBuffer] = []
                buffers.reserveCapacity(items.count * 2)
                for (item, bytes) in zip(items, media) {
                    if item.isRemoved, format == .tensors {
                        buffers.append(Self.removedRecord(item))
                        continue
                    }
                    buffers.append(
                        format == .records
                            ? recordHeader(item, mediaBytes: bytes?.readableBytes)
                            : try TensorEncoding.recordPrefix(item, labelIndex: labelIndex, mediaBytes: bytes?.readableBytes))
                    if let bytes { buffers.append(bytes) }
                }
                return buffers
            }
        }

        /// The media files of a batch, read (or opened, to be sent with sendfile) in one trip to
        /// NIO's blocking-I/O pool: media files are small and mostly in the page cache, so a trip
        /// (two thread switches) per file cost more than its read did.
        private func readMedia(of items: [StoredItem]) async throws -> [ByteBuffer?] {
            // A removed position's record carries no media, nor does a video's: a video is not
            // held in memory whole; clients read it from /files/{id}/media (ranges, ETag).
            let paths = items.map { item in
                item.isRemoved || item.file.type == .video ? nil : item.file.media.sha256.map { store.media.path(for: $0) }
            }
            let sender = fileSender
            return try await NIOThreadPool.singleton.runIfActive {
                try paths.map { path in
                    guard let path else { return nil }
                    if let sender, let placeholder = try FileSending.placeholder(path: path, on: sender) {
                        return placeholder
                    }
                    return try Self.readFile(path)
                }
            }
        }

        /// A removed position in a tensor stream: a record of no tensors whose metadata says so,
        /// so that clients count the position (for resuming) and yield no sample for it.
        static func removedRecord(_ item: StoredItem) -> ByteBuffer {
            let header = TensorRecord.header(
                for: [],
                metadata: ["file_id": String(item.file.id), "position": String(item.position), "removed": "true"])
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt64(header.count), endianness: .little)
            buffer.writeBytes(header)
            return buffer
        }

        static func mediaError(_ message: String) -> APIError {
            APIError(.internalServerError, code: "media_unreadable", message: message)
        }

        /// A whole file, read straight into a buffer.
        static func readFile(_ path: String) throws -> ByteBuffer {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw Self.mediaError("cannot open media file \(path): errno \(errno)") }
            defer { close(descriptor) }
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw Self.mediaError("cannot stat \(path): errno \(errno)") }
            let size = Int(status.st_size)
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            while buffer.readableBytes < size {
                let wanted = size - buffer.readableBytes
                var result = 0
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { space in
                    result = systemRead(descriptor, space.baseAddress, wanted)
                    return max(result, 0)
                }
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { throw Self.mediaError("cannot read media file \(path) whole: errno \(errno)") }
            }
            return buffer
        }

        /// The items at these dataset positions, by position. A run of consecutive positions
        /// (an unshuffled stream, or a block of a block shuffle) is one range read.
        private func read(_ positions: [Int]) async throws -> [Int: StoredItem] {
            guard let first = positions.first else { return [:] }
            let consecutive = positions.enumerated().allSatisfy { $0.element == first + $0.offset }
            let items: [StoredItem]
            switch (consecutive, source.pinned) {
            case (true, nil):
                items = try await store.storedItems(datasetID: source.datasetID, range: first..<(first + positions.count))
            case (true, let pinned?):
                items = try await store.storedItems(
                    datasetID: source.datasetID, range: first..<(first + positions.count), at: pinned)
            case (false, nil):
                items = try await store.storedItems(datasetID: source.datasetID, positions: Array(Set(positions)).sorted())
            case (false, let pinned?):
                items = try await store.storedItems(
                    datasetID: source.datasetID, positions: Array(Set(positions)).sorted(), at: pinned)
            }
            return Dictionary(items.map { ($0.position, $0) }, uniquingKeysWith: { one, _ in one })
        }

        /// The record up to its media bytes: the length prefix, the safetensors header and the
        /// item's JSON (the `item` tensor); the media bytes (the `image` tensor) follow it.
        private func recordHeader(_ item: StoredItem, mediaBytes: Int?) -> ByteBuffer {
            var out = JSONOutput(capacity: 2048)
            out.item(item)
            var specs = [(name: "item", type: TensorType.uint8, shape: [out.bytes.count])]
            if let mediaBytes { specs.append((name: "image", type: .uint8, shape: [mediaBytes])) }
            var metadata = ["file_id": String(item.file.id), "position": String(item.position)]
            if item.isRemoved { metadata["removed"] = "true" }
            let header = TensorRecord.header(for: specs, metadata: metadata)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(8 + header.count + out.bytes.count)
            buffer.writeInteger(UInt64(header.count + out.bytes.count + (mediaBytes ?? 0)), endianness: .little)
            buffer.writeBytes(header)
            buffer.writeBytes(out.bytes)
            return buffer
        }
    }
}

extension HTTPField.Name {
    /// The first index of the order the response holds.
    static let sluiceStart = Self("Sluice-Start")!
    /// One past the last index the response holds (the request's end, clipped).
    static let sluiceEnd = Self("Sluice-End")!
    /// The number of items of the order (this shard's, after what earlier runs consumed).
    static let sluiceLength = Self("Sluice-Length")!
    /// The positions the epoch covers.
    static let sluiceCount = Self("Sluice-Count")!
    /// The dataset version read.
    static let sluiceVersion = Self("Sluice-Version")!
}
