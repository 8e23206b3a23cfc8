import SluiceModel
import Testing

@testable import SluiceQuery

/// Random query text, spelled loosely (case, spacing, redundant parentheses, aliases) so that
/// normalising has work to do.
func randomQueryText(_ g: inout SplitMix64, depth: Int = 0) -> String {
    let space = g.pick([" ", "  ", "\t", ""])
    let roll = g.next() % 10
    if depth < 4, roll < 3 {
        let op = g.pick(["and", "AND", "or", "Or"])
        return "(\(randomQueryText(&g, depth: depth + 1)) \(op) \(randomQueryText(&g, depth: depth + 1)))"
    }
    if depth < 4, roll == 3 { return "\(g.pick(["not", "NOT"])) \(randomQueryText(&g, depth: depth + 1))" }
    let field = g.pick([
        "labels.cat", "LABELS.person", "labels.\"traffic light\"", "labels.any", "label.\"any\"", "file.width",
        "file.name", "file.metadata.camera.\"lens mm\"", "attribute.weather", "dataset.name", "file.byte_size",
        "labels.\"quote\\\"d\"",
        // Diffgram's forms: underscores for spaces, metadata keys as file fields, dataset ids and tags.
        "labels.traffic_light", "attribute.time_of_day", "file.sensor", "file.camera.\"lens mm\"", "dataset.id",
        "dataset.tag", "dataset_tag.tag", "DATASET_TAG.TAG",
    ])
    let op = g.pick(["=", "==", "!=", "<>", "<", "<=", ">", ">=", "in", "IN", "contains"])
    let scalars = ["3", "-2.5", "1e3", "\"rain\"", "'sun'", "true", "FALSE", "2024-05-01", "2024-05-01T10:00:00Z", "\"a\\\\b\""]
    let value = op.lowercased() == "in" ? g.pick(["[1, 2,3]", "[]", "[\"x\"]", "[2024-05-01, 'y']"]) : g.pick(scalars)
    // Diffgram's value first, for the operators that have a mirror.
    if !op.first!.isLetter, g.next() % 4 == 0 { return "\(value)\(space)\(op) \(field)" }
    // A word operator needs a space before it, or it runs into the name.
    return "\(field)\(op.first!.isLetter ? " " : space)\(op) \(value)"
}

@Suite struct FormatterAndFuzzTests {
    @Test func normalisedTextIsCanonical() throws {
        #expect(try QueryParser.parse("LABELS.person  >  2").normalized == "labels.person > 2")
        #expect(try QueryParser.parse("(labels.a >= 2) AND file.width>=640").normalized == "labels.a >= 2 and file.width >= 640")
        #expect(try QueryParser.parse("labels.a = 1 or (labels.b = 1 and labels.c == 1)").normalized
            == "labels.a = 1 or labels.b = 1 and labels.c = 1")
        #expect(try QueryParser.parse("(labels.a = 1 or labels.b = 1) and not (labels.c <> 1)").normalized
            == "(labels.a = 1 or labels.b = 1) and not labels.c != 1")
        #expect(try QueryParser.parse("not (labels.a = 1 and labels.b = 1)").normalized == "not (labels.a = 1 and labels.b = 1)")
        #expect(try QueryParser.parse("labels.a = 1 and (labels.b = 1 and labels.c = 1)").normalized
            == "labels.a = 1 and (labels.b = 1 and labels.c = 1)")
        #expect(try QueryParser.parse("labels.\"traffic light\" in [1,2]").normalized == "labels.\"traffic light\" in [1, 2]")
        #expect(try QueryParser.parse("labels.\"any\" > 0").normalized == "labels.\"any\" > 0")
        #expect(try QueryParser.parse("file.created_at > 2024-05-01").normalized == "file.created > 2024-05-01")
        #expect(try QueryParser.parse("file.name contains 'it\\''").normalized == "file.name contains \"it'\"")
    }

    /// Diffgram's spellings print as Sluice's canonical one: `--explain` and slice ids show one
    /// spelling for one meaning, and the slice cache keys on it.
    @Test(arguments: [
        ("labels.traffic_light > 0", "labels.\"traffic light\" > 0"),
        ("labels.parking_meter > 0", "labels.parking_meter > 0"),
        ("labels.parking_meter > 0 or labels.\"parking meter\" > 0", "labels.parking_meter > 0 or labels.\"parking meter\" > 0"),
        ("attribute.time_of_day = 'night'", "attribute.\"time of day\" = \"night\""),
        ("labels.no_such_label > 0", "labels.no_such_label > 0"),
        ("file.sensor = 'A'", "file.metadata.sensor = \"A\""),
        ("file.WIDTH >= 640", "file.width >= 640"),
        ("dataset.id in [3, 7]", "dataset.id in [3, 7]"),
        ("dataset.ID = 3", "dataset.id = 3"),
        ("2 < labels.cat", "labels.cat > 2"),
        ("not 2 >= labels.cat and 'rain' = attribute.weather", "not labels.cat <= 2 and attribute.weather = \"rain\""),
        ("dataset_tag.tag in ['reviewed']", "dataset.tag in [\"reviewed\"]"),
        ("dataset.tags = 'a'", "dataset.tag = \"a\""),
    ])
    func diffgramFormsPrintCanonically(diffgram: String, canonical: String) throws {
        let query = try QueryParser.parse(diffgram)
        #expect(query.normalized(against: schema) == canonical)
        #expect(try QueryParser.parse(canonical).normalized(against: schema) == canonical, "the canonical form is a fixed point")
        if !diffgram.contains("no_such") {
            #expect(try query.checked(against: schema) == QueryParser.parse(canonical).checked(against: schema))
        }
    }

    /// Property: parsing the normalised text gives the same tree, and normalising is idempotent.
    @Test func normalisingRoundTrips() throws {
        var g = SplitMix64(seed: 11)
        var parsed = 0
        for _ in 0..<3000 {
            let text = randomQueryText(&g)
            guard let query = try? QueryParser.parse(text) else { continue }
            parsed += 1
            let again = try QueryParser.parse(query.normalized)
            #expect(again == query, "\(text) → \(query.normalized)")
            #expect(again.normalized == query.normalized)
        }
        #expect(parsed == 3000, "the generator writes only valid syntax")
    }

    /// Found by scripts/fuzz.sh (FuzzQuery): a combining mark after a newline printed as `\n`,
    /// after an escaped quote or backslash, or first in a string joined the escape's letter or
    /// the quote into one Character, and the printed query did not parse.
    @Test(arguments: [
        "dataset.tag contains 's.c\n\n\u{0613}e\0 w'",
        "file.name = \"\u{0613}x\"",
        "file.name = '\\\\\u{0301}'",
        "file.name = 'say \\\"\u{0301}hi'",
        "file.name = 'tab\t\u{0308}'",
    ])
    func stringsWithCombiningMarksRoundTrip(text: String) throws {
        let query = try QueryParser.parse(text)
        let printed = query.normalized
        let again = try QueryParser.parse(printed)
        #expect(again == query, "\(text.debugDescription) → \(printed.debugDescription)")
        #expect(again.normalized == printed)
    }

    @Test func aMarkAfterAClosingQuoteIsAnErrorNotDropped() {
        #expect(throws: QueryError.self) { try QueryParser.parse("file.name = 'a'\u{0301} ") }
    }

    /// Random bytes, and random mixes of the language's own tokens, never crash the parser:
    /// each is a query or an error whose column lies inside the text (or just past its end).
    @Test func randomInputIsAQueryOrAPositionedError() {
        var g = SplitMix64(seed: 99)
        let pieces = ["labels", "file", ".", "cat", "\"", "'", "(", ")", "[", "]", ",", "and", "or", "not", "in",
                      "contains", "=", "!", "<", ">", "-", "1", "2024-05-01", " ", "\\", "metadata", "true", "é", "\u{0}"]
        var queries = 0
        var errors = 0
        for round in 0..<20_000 {
            let text: String
            if round % 3 == 2 {
                // A valid query with one character gone: near misses, some still valid.
                var characters = Array(randomQueryText(&g))
                characters.remove(at: Int(g.next() % UInt64(characters.count)))
                text = String(characters)
            } else if round % 3 == 0 {
                let bytes = (0..<Int(g.next() % 40)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
                text = String(decoding: bytes, as: UTF8.self)
            } else {
                text = (0..<Int(g.next() % 16)).map { _ in g.pick(pieces) }.joined()
            }
            do {
                let query = try QueryParser.parse(text)
                _ = query.normalized
                queries += 1
            } catch {
                errors += 1
                #expect(error.column >= 1 && error.column <= text.count + 1, "\(text.debugDescription): \(error.column)")
                #expect(!error.message.isEmpty)
                _ = error.description
            }
        }
        #expect(queries > 0 && errors > 0)
    }
}
