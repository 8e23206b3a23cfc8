import SluiceModel

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

    /// A float32 tensor of `values`, stored little-endian.
    public init(shape: [Int], float32 values: [Float]) {
        self.init(type: .float32, shape: shape, bytes: Self.littleEndianBytes(of: values.map(\.bitPattern)))
    }

    /// An int64 tensor of `values`, stored little-endian.
    public init(shape: [Int], int64 values: [Int64]) {
        self.init(type: .int64, shape: shape, bytes: Self.littleEndianBytes(of: values))
    }

    /// The values of a float32 tensor, in row-major order.
    public var float32s: [Float] { Self.integers(UInt32.self, from: bytes).map(Float.init(bitPattern:)) }

    /// The values of an int64 tensor, in row-major order.
    public var int64s: [Int64] { Self.integers(Int64.self, from: bytes) }

    static func littleEndianBytes<T: FixedWidthInteger>(of values: [T]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    static func integers<T: FixedWidthInteger>(_: T.Type, from bytes: [UInt8]) -> [T] {
        let width = MemoryLayout<T>.size
        return (0..<(bytes.count / width)).map { index in
            bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: index * width, as: T.self)) }
        }
    }
}

/// A set of named tensors with string metadata, in the safetensors layout
/// (https://github.com/huggingface/safetensors): a little-endian u64 header length, the
/// JSON header (`__metadata__` and, per tensor, dtype, shape and data offsets), then the
/// data, so the Python library loads it into numpy, torch or TensorFlow without a copy of ours.
///
/// The header is written and read with Sluice's own JSON writer and pull parser: records
/// are made and read once per streamed item, where Foundation's JSON costs more than the
/// rest of the item together.
public struct TensorRecord: Sendable, Hashable {
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The record's bytes. Tensors are laid out in name order.
    public func encoded() -> [UInt8] {
        let names = tensors.keys.sorted()
        var bytes = Self.header(
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
    ) -> [UInt8] {
        var json = JSONOutput(capacity: 128 + specs.count * 96)
        json.raw(UInt8(ascii: "{"))
        var first = true
        if !metadata.isEmpty {
            json.raw("\"__metadata__\":{")
            for (index, key) in metadata.keys.sorted().enumerated() {
                if index > 0 { json.raw(UInt8(ascii: ",")) }
                json.string(key)
                json.raw(UInt8(ascii: ":"))
                json.string(metadata[key]!)
            }
            json.raw(UInt8(ascii: "}"))
            first = false
        }
        var offset = 0
        for spec in specs {
            let size = spec.shape.reduce(1, *) * spec.type.byteWidth
            if !first { json.raw(UInt8(ascii: ",")) }
            first = false
            json.string(spec.name)
            json.raw(":{\"dtype\":\"")
            json.raw(spec.type.rawValue)
            json.raw("\",\"shape\":[")
            for (index, dimension) in spec.shape.enumerated() {
                if index > 0 { json.raw(UInt8(ascii: ",")) }
                json.integer(dimension)
            }
            json.raw("],\"data_offsets\":[")
            json.integer(offset)
            json.raw(UInt8(ascii: ","))
            json.integer(offset + size)
            json.raw("]}")
            offset += size
        }
        json.raw(UInt8(ascii: "}"))
        let padded = (json.bytes.count + 7) / 8 * 8
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + padded)
        withUnsafeBytes(of: UInt64(padded).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json.bytes)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padded - json.bytes.count))
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
        let layout = try Self.layout(header: Array(bytes[8..<dataStart]), dataBytes: bytes.count - dataStart)
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
    public static func layout(header: [UInt8], dataBytes: Int) throws(TensorRecordError) -> Layout {
        var reader = JSONReader(bytes: header)
        var layout = Layout(tensors: [:], metadata: [:])
        do {
            guard try reader.next() == .beginObject else { throw TensorRecordError.malformed("the header is not a JSON object") }
            while case .key(let name) = try reader.next() {
                let value = try reader.readValue()
                if name == "__metadata__" {
                    guard case .object(let members) = value else {
                        throw TensorRecordError.malformed("__metadata__ must map strings to strings")
                    }
                    for (key, member) in members {
                        guard case .string(let text) = member else {
                            throw TensorRecordError.malformed("__metadata__ must map strings to strings")
                        }
                        layout.metadata[key] = text
                    }
                    continue
                }
                layout.tensors[name] = try tensorEntry(name, value, dataBytes: dataBytes)
            }
        } catch let error as TensorRecordError {
            throw error
        } catch {
            throw .malformed("the header is not valid JSON: \(error)")
        }
        return layout
    }

    private static func tensorEntry(_ name: String, _ value: JSONValue, dataBytes: Int) throws(TensorRecordError)
        -> (type: TensorType, shape: [Int], range: Range<Int>)
    {
        guard case .object(let entry) = value, case .string(let dtype)? = entry["dtype"],
            let type = TensorType(rawValue: dtype), case .array(let shapeValues)? = entry["shape"],
            case .array(let offsetValues)? = entry["data_offsets"]
        else { throw .malformed("tensor '\(name)': needs a known dtype, a shape and two data_offsets") }
        let shape = shapeValues.compactMap { $0.numberValue.map { Int($0) } }
        let offsets = offsetValues.compactMap { $0.numberValue.map { Int($0) } }
        guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), offsets.count == 2 else {
            throw .malformed("tensor '\(name)': shape and data_offsets must be non-negative integers, two offsets")
        }
        guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes else {
            throw .malformed("tensor '\(name)': data_offsets \(offsets) outside the \(dataBytes) data bytes")
        }
        let needed = shape.reduce(1, *) * type.byteWidth
        guard needed == offsets[1] - offsets[0] else {
            throw .malformed("tensor '\(name)': shape \(shape) of \(dtype) needs \(needed) bytes, has \(offsets[1] - offsets[0])")
        }
        return (type, shape, offsets[0]..<offsets[1])
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
