import NIOCore
import SluiceModel
import SluiceStore
import SluiceTensors

/// Stored items as `ItemFrame`s, written straight from the columns the store read: numbers
/// as they are, JSON columns as their stored text, label names only where the stream's label
/// table does not already say them. Public for the benchmarks, which time it beside the
/// item JSON it replaces.
public enum FrameEncoding {
    /// The preamble of a frames response: the magic and the label table.
    public static func preamble(labels: [Label]) -> ByteBuffer {
        var json = JSONOutput(capacity: 64 + labels.count * 48)
        json.raw("{\"version\":1,\"labels\":[")
        for (i, label) in labels.enumerated() {
            if i > 0 { json.raw(UInt8(ascii: ",")) }
            json.raw("{\"id\":")
            json.integer(label.id)
            json.raw(",\"index\":")
            json.integer(label.index ?? 0)
            json.raw(",\"name\":")
            json.string(label.name)
            json.raw("}")
        }
        json.raw("]}")
        var buffer = ByteBuffer()
        buffer.writeBytes(ItemFrame.magic)
        buffer.writeInteger(UInt32(json.bytes.count), endianness: .little)
        buffer.writeBytes(json.bytes)
        return buffer
    }

    /// The frame of `item` up to its media bytes (which follow it, `mediaBytes` long): with
    /// `tensors`, a tensor frame, which holds them instead of the instance columns.
    ///
    /// Two passes over the item: the sections and their sizes, then one buffer of exactly that
    /// size written through a raw pointer (a `ByteBuffer` write per number cost more than the
    /// JSON it replaces).
    public static func framePrefix(
        _ item: StoredItem, labelNames: [Int64: String], tensors: ItemTensors? = nil, mediaBytes: Int?
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        writeFramePrefix(item, labelNames: labelNames, tensors: tensors, mediaBytes: mediaBytes, into: &buffer)
        return buffer
    }

    /// `framePrefix`, appended to `buffer`: the frames of a batch without media go out as one
    /// buffer, one chunk of the response rather than one per item.
    public static func writeFramePrefix(
        _ item: StoredItem, labelNames: [Int64: String], tensors: ItemTensors? = nil, mediaBytes: Int?,
        into buffer: inout ByteBuffer
    ) {
        let source = FrameSource(item: item, labelNames: labelNames, tensors: tensors?.tensors)
        var entries: [(key: ItemFrame.Key, offset: Int, length: Int)] = []
        entries.reserveCapacity(24)
        var dataLength = 0
        for key in source.keys() {
            let length = source.length(key)
            entries.append((key, dataLength, length))
            dataLength += ItemFrame.padded(length)
        }
        let dataStart = ItemFrame.headerSize + entries.count * ItemFrame.sectionEntrySize
        let mediaLength = mediaBytes ?? 0
        let flags =
            (item.isRemoved ? ItemFrame.removedFlag : 0) | (mediaBytes != nil ? ItemFrame.mediaFlag : 0)
            | (tensors != nil ? ItemFrame.tensorFlag : 0)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + dataStart + dataLength) { raw in
            // Zeroed first: padding and reserved fields are zeros on the wire.
            raw.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: 4 + dataStart + dataLength)
            let frame = UnsafeMutableRawBufferPointer(rebasing: raw[4...])
            raw.storeBytes(of: UInt32(dataStart + dataLength + mediaLength).littleEndian, as: UInt32.self)
            frame.storeBytes(of: Int64(item.position).littleEndian, toByteOffset: 0, as: Int64.self)
            frame.storeBytes(of: item.file.id.littleEndian, toByteOffset: 8, as: Int64.self)
            frame.storeBytes(of: item.file.revision.littleEndian, toByteOffset: 16, as: Int64.self)
            frame.storeBytes(of: UInt32(tensors?.count ?? item.instances.count).littleEndian, toByteOffset: 24, as: UInt32.self)
            frame.storeBytes(of: UInt16(entries.count).littleEndian, toByteOffset: 28, as: UInt16.self)
            frame.storeBytes(of: flags, toByteOffset: 30, as: UInt8.self)
            frame.storeBytes(of: UInt32(mediaLength).littleEndian, toByteOffset: 32, as: UInt32.self)
            frame.storeBytes(of: UInt32(dataLength).littleEndian, toByteOffset: 36, as: UInt32.self)
            for (index, entry) in entries.enumerated() {
                let at = ItemFrame.headerSize + index * ItemFrame.sectionEntrySize
                frame.storeBytes(of: entry.key.rawValue.littleEndian, toByteOffset: at, as: UInt16.self)
                frame.storeBytes(of: entry.key.elementType.rawValue, toByteOffset: at + 2, as: UInt8.self)
                frame.storeBytes(of: UInt32(entry.offset).littleEndian, toByteOffset: at + 4, as: UInt32.self)
                frame.storeBytes(of: UInt32(entry.length).littleEndian, toByteOffset: at + 8, as: UInt32.self)
                source.fill(entry.key, into: UnsafeMutableRawBufferPointer(
                    rebasing: frame[(dataStart + entry.offset)..<(dataStart + entry.offset + entry.length)]))
            }
            return 4 + dataStart + dataLength
        }
    }
}

/// What a frame's sections hold, read from a stored item: which sections it has, their sizes
/// and their bytes.
private struct FrameSource {
    let item: StoredItem
    /// A tensor frame's tensors (by name, `ItemTensors.tensors`); nil for an item frame.
    let tensors: [(name: String, tensor: Tensor)]?
    /// The instance columns' instances: none in a tensor frame.
    let instances: [StoredInstance]
    /// Each instance's label name where the stream's label table does not say it (looked up
    /// once: every section pass asks).
    let labels: [String?]

    init(item: StoredItem, labelNames: [Int64: String], tensors: [(name: String, tensor: Tensor)]?) {
        self.item = item
        self.tensors = tensors
        instances = tensors == nil ? item.instances : []
        labels = instances.map { instance in
            instance.label == instance.labelID.flatMap { labelNames[$0] } ? nil : instance.label
        }
    }

    var file: StoredFile { item.file }

    /// Instance `index`'s text of a text section; nil or empty for none.
    func text(_ key: ItemFrame.Key, _ index: Int) -> String? {
        let instance = instances[index]
        return switch key {
        case .geometryText: instance.geometryJSON == "{}" ? nil : instance.geometryJSON
        case .attributesText: instance.attributesJSON == "{}" ? nil : instance.attributesJSON
        case .metadataText: instance.metadataJSON == "{}" ? nil : instance.metadataJSON
        case .creatorText: instance.creator
        case .labelText: labels[index]
        default: nil
        }
    }

    static let textColumns: [(text: ItemFrame.Key, offsets: ItemFrame.Key)] = [
        (.geometryText, .geometryOffsets), (.attributesText, .attributesOffsets), (.metadataText, .metadataOffsets),
        (.creatorText, .creatorOffsets), (.labelText, .labelOffsets),
    ]
    static let instanceColumns: [ItemFrame.Key] = [
        .instanceID, .labelID, .box, .area, .score, .kind, .instanceFlags, .frame, .track, .createdAt, .updatedAt,
    ]

    /// The sections this item's frame has, in the order they are laid out.
    func keys() -> [ItemFrame.Key] {
        var keys: [ItemFrame.Key] = [.fileNumbers]
        if file.media.frameRate != nil { keys.append(.frameRate) }
        keys += [.name, .projectID]
        if file.media.sha256 != nil { keys.append(.sha256) }
        if file.media.mimeType != nil { keys.append(.mimeType) }
        if file.metadataJSON != "{}" { keys.append(.fileMetadata) }
        if let tensors {
            keys += tensors.map { ItemFrame.tensorKeys[$0.name]! }
        } else if !instances.isEmpty {
            keys += Self.instanceColumns
            for column in Self.textColumns where instances.indices.contains(where: { !(text(column.text, $0) ?? "").isEmpty }) {
                keys += [column.text, column.offsets]
            }
        }
        return keys
    }

    func length(_ key: ItemFrame.Key) -> Int {
        let n = instances.count
        switch key {
        case .fileNumbers: return 64
        case .frameRate: return 8
        case .name: return file.name.utf8.count
        case .projectID: return file.projectID.utf8.count
        case .sha256: return file.media.sha256?.utf8.count ?? 0
        case .mimeType: return file.media.mimeType?.utf8.count ?? 0
        case .fileMetadata: return file.metadataJSON.utf8.count
        case .box: return n * 32
        case .kind, .instanceFlags: return n
        case .geometryText, .attributesText, .metadataText, .creatorText, .labelText:
            return instances.indices.reduce(0) { $0 + (text(key, $1)?.utf8.count ?? 0) }
        case .geometryOffsets, .attributesOffsets, .metadataOffsets, .creatorOffsets, .labelOffsets:
            return (n + 1) * 4
        case .instanceID, .labelID, .area, .score, .frame, .track, .createdAt, .updatedAt:
            return n * 8
        default:
            return tensors?.first { ItemFrame.tensorKeys[$0.name] == key }?.tensor.bytes.count ?? 0
        }
    }

    func fill(_ key: ItemFrame.Key, into out: UnsafeMutableRawBufferPointer) {
        func int64s(_ value: (StoredInstance) -> Int64) {
            for (i, instance) in instances.enumerated() {
                out.storeBytes(of: value(instance).littleEndian, toByteOffset: i * 8, as: Int64.self)
            }
        }
        func float64s(_ value: (StoredInstance) -> Double?) {
            for (i, instance) in instances.enumerated() {
                out.storeBytes(of: (value(instance) ?? .nan).bitPattern.littleEndian, toByteOffset: i * 8, as: UInt64.self)
            }
        }
        func utf8(_ text: String?) {
            guard var text else { return }
            text.withUTF8 { out.copyMemory(from: UnsafeRawBufferPointer($0)) }
        }
        switch key {
        case .fileNumbers:
            let media = file.media
            let numbers: [Int64] = [
                file.createdAt.milliseconds, file.updatedAt.milliseconds, media.byteSize ?? -1,
                Int64(media.width ?? -1), Int64(media.height ?? -1), Int64(media.frameCount ?? -1),
                Int64(ItemFrame.fileTypeCodes.firstIndex(of: file.type)!),
                Int64(ItemFrame.statusCodes.firstIndex(of: file.status)!),
            ]
            for (i, number) in numbers.enumerated() {
                out.storeBytes(of: number.littleEndian, toByteOffset: i * 8, as: Int64.self)
            }
        case .frameRate:
            out.storeBytes(of: (file.media.frameRate ?? .nan).bitPattern.littleEndian, as: UInt64.self)
        case .name: utf8(file.name)
        case .projectID: utf8(file.projectID)
        case .sha256: utf8(file.media.sha256)
        case .mimeType: utf8(file.media.mimeType)
        case .fileMetadata: utf8(file.metadataJSON)
        case .instanceID: int64s(\.id)
        case .labelID: int64s { $0.labelID ?? -1 }
        case .box:
            for (i, instance) in instances.enumerated() {
                let b = instance.bbox
                for (j, value) in [b?.xMin, b?.yMin, b?.xMax, b?.yMax].enumerated() {
                    out.storeBytes(of: (value ?? .nan).bitPattern.littleEndian, toByteOffset: i * 32 + j * 8, as: UInt64.self)
                }
            }
        case .area: float64s(\.area)
        case .score: float64s(\.score)
        case .kind:
            for (i, instance) in instances.enumerated() {
                out[i] = UInt8(ItemFrame.kindCodes.firstIndex(of: instance.kind)!)
            }
        case .instanceFlags:
            for (i, instance) in instances.enumerated() {
                out[i] = (instance.isCrowd ? ItemFrame.crowdFlag : 0) | (instance.isDeleted ? ItemFrame.deletedFlag : 0)
            }
        case .frame: int64s { $0.frame.map(Int64.init) ?? ItemFrame.none }
        case .track: int64s { $0.track.map(Int64.init) ?? ItemFrame.none }
        case .createdAt: int64s(\.createdAt.milliseconds)
        case .updatedAt: int64s(\.updatedAt.milliseconds)
        case .geometryText, .attributesText, .metadataText, .creatorText, .labelText:
            var at = 0
            for index in instances.indices {
                guard var text = text(key, index) else { continue }
                text.withUTF8 { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + bytes.count)])
                        .copyMemory(from: UnsafeRawBufferPointer(bytes))
                    at += bytes.count
                }
            }
        case .geometryOffsets, .attributesOffsets, .metadataOffsets, .creatorOffsets, .labelOffsets:
            let textKey = Self.textColumns.first { $0.offsets == key }!.text
            var end: UInt32 = 0
            out.storeBytes(of: end, as: UInt32.self)
            for i in instances.indices {
                end += UInt32(text(textKey, i)?.utf8.count ?? 0)
                out.storeBytes(of: end.littleEndian, toByteOffset: (i + 1) * 4, as: UInt32.self)
            }
        default:
            guard let bytes = tensors?.first(where: { ItemFrame.tensorKeys[$0.name] == key })?.tensor.bytes else { return }
            bytes.withUnsafeBytes { out.copyMemory(from: $0) }
        }
    }
}
