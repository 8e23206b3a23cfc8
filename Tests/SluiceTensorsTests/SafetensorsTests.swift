import Testing

@testable import SluiceTensors

/// The safetensors layout: what the writer produces, and what the reader refuses.
@Suite struct SafetensorsTests {
    static let record = TensorRecord(
        tensors: [
            "image": Tensor(type: .uint8, shape: [5], bytes: [1, 2, 3, 4, 5]),
            "boxes": Tensor(type: .float32, shape: [2, 4], bytes: (0..<32).map { UInt8($0) }),
            "labels": Tensor(type: .int64, shape: [2], bytes: [7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]),
            "empty": Tensor(type: .float32, shape: [0, 4], bytes: []),
        ],
        metadata: ["file_id": "42", "name": "a \"quoted\" name.jpg"])

    @Test func roundTripsAndAlignsTheData() throws {
        let bytes = Self.record.encoded()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
        #expect(headerLength % 8 == 0, "data starts 8-byte aligned")
        #expect(bytes.count == 8 + headerLength + 5 + 32 + 16)
        #expect(try TensorRecord(decoding: bytes) == Self.record)
        // Tensors are laid out in name order, as the header's offsets say.
        let layout = try TensorRecord.layout(header: Array(bytes[8..<(8 + headerLength)]), dataBytes: 53)
        #expect(layout.tensors["boxes"]?.range == 0..<32)
        #expect(layout.tensors["empty"]?.range == 32..<32)
        #expect(layout.tensors["image"]?.range == 32..<37)
        #expect(layout.tensors["labels"]?.range == 37..<53)
        #expect(layout.metadata["name"] == "a \"quoted\" name.jpg")
    }

    @Test func theHeaderIsTheReferenceLayout() {
        let bytes = TensorRecord(tensors: ["x": Tensor(type: .uint8, shape: [2], bytes: [1, 2])]).encoded()
        let header = String(decoding: bytes[8...].prefix(while: { $0 != 1 }), as: UTF8.self)
        #expect(header == #"{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"# + "   ")
    }

    static func withHeader(_ json: String, data: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        return bytes + Array(json.utf8) + data
    }

    @Test(arguments: [
        ([1, 2, 3], "shorter than the header length"),
        (withHeader("{}").dropLast(2) + [], "exceeds"),
        (withHeader("[1]"), "not a JSON object"),
        (withHeader("{\"x\":"), "not valid JSON"),
        (withHeader(#"{"x":{"dtype":"Q9","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "known dtype"),
        (withHeader(#"{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: [0]), "outside the 1 data bytes"),
        (withHeader(#"{"x":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "needs 16 bytes"),
        (withHeader(#"{"__metadata__":{"a":1}}"#), "map strings to strings"),
    ] as [([UInt8], String)])
    func malformedRecordsAreRefusedWithTheReason(bytes: [UInt8], reason: String) {
        #expect {
            _ = try TensorRecord(decoding: bytes)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }
}
