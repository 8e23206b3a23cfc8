import Foundation

import Testing

@testable import SluiceModel

@Suite struct JSONReaderTests {
    func tokens(_ text: String, chunkSize: Int? = nil) throws -> [JSONToken] {
        let bytes = Array(text.utf8)
        var reader = JSONReader(source: MemoryByteSource(bytes: bytes), chunkSize: chunkSize ?? max(bytes.count, 1))
        var out: [JSONToken] = []
        while true {
            let t = try reader.next()
            out.append(t)
            if t == .end { return out }
        }
    }

    @Test func readsEveryTokenKind() throws {
        let t = try tokens(#"{"a": [1, -2.5e3, "x\n\"y\u00e9\ud83d\ude00", true, false, null], "b": {}}"#)
        #expect(
            t == [
                .beginObject, .key("a"), .beginArray, .number(1), .number(-2500), .string("x\n\"yé😀"), .bool(true),
                .bool(false), .null, .endArray, .key("b"), .beginObject, .endObject, .endObject, .end,
            ])
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func tokensDoNotDependOnChunkBoundaries(chunkSize: Int) throws {
        let text = #"{"images": [{"id": 12345, "file_name": "a b\\c.jpg", "w": 0.1e-2}], "s": "\u00e9\u00e9\u00e9"}"#
        #expect(try tokens(text, chunkSize: chunkSize) == tokens(text))
    }

    @Test func aNumberSplitByARefillReadsAsAWholeOne() throws {
        // The slow path (more than 15 digits) reads the number's text back: a refill in the
        // middle of it must not lose the first part. The buffer holds 64 bytes.
        let numbers = "[1.7976931348623157e308, 123456789012345678901234567890, 0.30000000000000004, -2.5e-3]"
        for shift in 0..<70 {
            let text = String(repeating: " ", count: shift) + numbers
            #expect(try tokens(text, chunkSize: 64) == tokens(text), "shifted by \(shift)")
        }
    }

    @Test func numbersAreCorrectlyRounded() throws {
        var generator = SystemRandomNumberGenerator()
        var samples = ["0", "-0", "0.1", "106.01", "1e308", "2.2250738585072014e-308", "123456789012345678901234567890",
                       "0.30000000000000004", "9007199254740993", "1.7976931348623157e308", "5e-324"]
        for _ in 0..<2000 {
            let d = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF)
            samples.append(d.description)
            samples.append(String(Double(Int.random(in: -100_000...100_000, using: &generator)) / 100))
        }
        for text in samples {
            guard case .number(let n) = try tokens(text)[0] else {
                Issue.record("no number for \(text)")
                continue
            }
            #expect(n == Double(text)!, "\(text)")
        }
    }

    @Test(arguments: [
        ("{\"a\" 1}", 1, 6, "expected ':'"),
        ("[1,\n 2,\n x]", 3, 2, "unexpected character 'x'"),
        ("[1 2]", 1, 4, "expected ',' or ']'"),
        ("{\"a\": 1,}", 1, 9, "expected a member name in double quotes"),
        ("[01]", 1, 3, "invalid number: leading zero"),
        ("\"abc", 1, 5, "unterminated string"),
        ("[1]]", 1, 4, "unexpected text after the end of the document"),
        ("[tru]", 1, 5, "invalid literal, expected 'true'"),
    ])
    func syntaxErrorsNameTheirPosition(text: String, line: Int, column: Int, message: String) throws {
        #expect(throws: JSONSyntaxError(line: line, column: column, message: message)) {
            _ = try tokens(text)
        }
    }

    @Test func truncatedInputIsAnError() throws {
        #expect(throws: JSONSyntaxError.self) { _ = try tokens(#"{"images": [{"id": 1}, "#) }
    }

    @Test func skipValueSkipsNestedStructures() throws {
        var reader = JSONReader(bytes: Array(#"[{"a": [1, {"b": []}]}, 7]"#.utf8))
        #expect(try reader.next() == .beginArray)
        try reader.skipValue()
        #expect(try reader.next() == .number(7))
        #expect(try reader.next() == .endArray)
        #expect(try reader.next() == .end)
    }

    @Test func readValueMatchesFoundation() throws {
        let text = #"{"x": [1, 2.5, "s", null, true, {"y": -3}]}"#
        var reader = JSONReader(bytes: Array(text.utf8))
        let value = try reader.readValue()
        #expect(value == (try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))))
    }

    @Test func readValueRefusesNestingDeeperThanItsLimitWithoutOverflowingTheStack() throws {
        let limit = JSONReader.maxValueDepth
        let fits = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        var reader = JSONReader(bytes: Array(fits.utf8))
        _ = try reader.readValue()
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        var deepReader = JSONReader(bytes: Array(deep.utf8))
        let error = #expect(throws: JSONSyntaxError.self) { _ = try deepReader.readValue() }
        #expect(error?.message.contains("nest deeper than \(limit)") == true)
    }
}
