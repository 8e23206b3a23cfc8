import Testing

@testable import SluiceServer

/// The guard in front of MultipartKit's parser, which traps on a non-ASCII header name byte.
@Suite struct MultipartHeaderGuardTests {
    static let boundary = "b0undary"

    static func body(secondPartHeader: String) -> [UInt8] {
        Array(
            ("--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n"
                + "caf\u{E9} --b0undar \u{FF}: not a header, the part's bytes\r\n"
                + "--b0undary\r\n\(secondPartHeader)\r\n\r\nv\r\n--b0undary--\r\n").utf8)
    }

    /// Every split of the body into two chunks gives the same verdict as one chunk.
    static func verdict(_ bytes: [UInt8]) -> [Bool] {
        (0...bytes.count).map { split in
            var headerGuard = MultipartHeaderGuard(boundary: boundary)
            do {
                try headerGuard.check(bytes[..<split])
                try headerGuard.check(bytes[split...])
                return true
            } catch {
                return false
            }
        }
    }

    @Test func nonASCIIBytesInPartContentAndHeaderValuesPass() {
        let bytes = Self.body(secondPartHeader: "Content-Disposition: form-data; name=\"caf\u{E9}\"")
        #expect(Self.verdict(bytes).allSatisfy { $0 })
    }

    @Test func aNonASCIIHeaderNameIsRefusedWhereverTheChunksSplit() {
        let bytes = Self.body(secondPartHeader: "Caf\u{E9}: x")
        #expect(Self.verdict(bytes).allSatisfy { !$0 })
        var first = MultipartHeaderGuard(boundary: Self.boundary)
        #expect(throws: MultipartHeaderGuard.NonASCIIHeaderName.self) {
            try first.check(Array("--b0undary\r\n\u{F5}[`\u{DF}12--b0undary--\r\n".utf8))
        }
    }
}
