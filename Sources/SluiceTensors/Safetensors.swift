import Foundation

/// Element types of the safetensors format that Sluice records use.
public enum TensorType: String, Sendable, Hashable, Codable {
    case uint8 = "U8"
    case int64 = "I64"
    case float32 = "F32"

    public var byteWidth: Int {
        switch self {
        case .uint8: 1
        case .int64: 8
        case .float32: 4
        }
    }
}

/// One named array of a record: its type, shape and raw little-endian bytes.
public struct Tensor: Sendable, Hashable {
    public var type: TensorType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(type: TensorType, shape: [Int], bytes: [UInt8]) {
        self.type = type
        self.shape = shape
        self.bytes = bytes
    }
}

/// A set of named tensors with string metadata, in the safetensors layout
/// (https://github.com/huggingface/safetensors): a little-endian u64 header length, the
/// JSON header (`__metadata__` and, per tensor, dtype, shape and data offsets), then the
/// data, so the Python library loads it into numpy, torch or TensorFlow without a copy of ours.
public struct TensorRecord: Sendable, Hashable {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The record's bytes. Tensors are laid out in name order.
    public func encoded() throws -> [UInt8] {
        let names = tensors.keys.sorted()
        var bytes = try Self.header(
            for: names.map { (name: $0, type: tensors[$0]!.type, shape: tensors[$0]!.shape) }, metadata: metadata)
        for name in names { bytes.append(contentsOf: tensors[name]!.bytes) }
        return bytes
    }

    /// The bytes before the data of a record whose tensors are `specs`, in that order: the
    /// header length and the header. A writer that has the data elsewhere (a media file)
    /// appends it after this without building the record. The header is padded with spaces
    /// to a multiple of 8 bytes so the data starts aligned, as the reference writer does.
    public static func header(
        for specs: [(name: String, type: TensorType, shape: [Int])], metadata: [String: String]
    ) throws -> [UInt8] {
        var entries: [String: HeaderEntry] = [:]
        var offset = 0
        for spec in specs {
            let size = spec.shape.reduce(1, *) * spec.type.byteWidth
            entries[spec.name] = HeaderEntry(dtype: spec.type.rawValue, shape: spec.shape, dataOffsets: [offset, offset + size])
            offset += size
        }
        var json = try headerJSON(entries, metadata: metadata)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        return bytes
    }

    /// Reads a record, checking that every tensor's offsets and shape fit the data.
    public init(decoding bytes: some Collection<UInt8>) throws(TensorRecordError) {
        let bytes = Array(bytes)
        guard bytes.count >= 8 else { throw .malformed("\(bytes.count) bytes: shorter than the header length") }
        let headerLength = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw .malformed("header length \(headerLength) exceeds the \(bytes.count - 8) bytes after it")
        }
        let dataStart = 8 + Int(headerLength)
        let layout = try Self.layout(header: bytes[8..<dataStart], dataBytes: bytes.count - dataStart)
        self.init(
            tensors: layout.tensors.mapValues { entry in
                Tensor(
                    type: entry.type, shape: entry.shape,
                    bytes: Array(bytes[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)]))
            },
            metadata: layout.metadata)
    }

    /// What a header says: each tensor's type, shape and byte range within the data, and the
    /// metadata. Lets a reader that holds the data elsewhere take the tensors without copies.
    public struct Layout: Sendable {
        public var tensors: [String: (type: TensorType, shape: [Int], range: Range<Int>)]
        public var metadata: [String: String]
    }

    /// Reads a header (the JSON after the length prefix), checking every tensor against the
    /// `dataBytes` that follow it.
    public static func layout(header: some Collection<UInt8>, dataBytes: Int) throws(TensorRecordError) -> Layout {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(header)) as? [String: Any] else {
                throw TensorRecordError.malformed("the header is not a JSON object")
            }
            object = parsed
        } catch let error as TensorRecordError {
            throw error
        } catch {
            throw .malformed("the header is not valid JSON: \(error)")
        }
        var layout = Layout(tensors: [:], metadata: [:])
        for (name, value) in object {
            if name == "__metadata__" {
                guard let members = value as? [String: String] else { throw .malformed("__metadata__ must map strings to strings") }
                layout.metadata = members
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let type = TensorType(rawValue: dtype), let shape = entry["shape"] as? [Int],
                let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw .malformed("tensor '\(name)': needs a known dtype, a shape and two data_offsets") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes else {
                throw .malformed("tensor '\(name)': data_offsets \(offsets) outside the \(dataBytes) data bytes")
            }
            let needed = shape.reduce(1, *) * type.byteWidth
            guard needed == offsets[1] - offsets[0] else {
                throw .malformed("tensor '\(name)': shape \(shape) of \(dtype) needs \(needed) bytes, has \(offsets[1] - offsets[0])")
            }
            layout.tensors[name] = (type, shape, offsets[0]..<offsets[1])
        }
        return layout
    }

    struct HeaderEntry: Encodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    static func headerJSON(_ entries: [String: HeaderEntry], metadata: [String: String]) throws -> [UInt8] {
        struct Header: Encodable {
            var entries: [String: HeaderEntry]
            var metadata: [String: String]

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Name.self)
                if !metadata.isEmpty { try container.encode(metadata, forKey: Name("__metadata__")) }
                for (name, entry) in entries { try container.encode(entry, forKey: Name(name)) }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(Header(entries: entries, metadata: metadata)))
    }

    struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// A record that is not valid safetensors.
public enum TensorRecordError: Error, Hashable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let message): "malformed tensor record: \(message)"
        }
    }
}
