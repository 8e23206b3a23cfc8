import SluiceModel
import Testing

@testable import SluiceQuery

let schema = QuerySchema(
    labels: [
        Label(id: 1, name: "person", color: "#000000"), Label(id: 2, name: "cat", color: "#000000"),
        Label(id: 3, name: "traffic light", color: "#000000"), Label(id: 4, name: "car", color: "#000000"),
    ],
    attributeGroups: [
        AttributeGroup(id: 1, name: "weather", kind: .select, options: ["rain", "sun", "fog"]),
        AttributeGroup(id: 2, name: "occluded", kind: .boolean),
        AttributeGroup(id: 3, name: "score", kind: .number),
        AttributeGroup(id: 4, name: "note", kind: .text),
        AttributeGroup(id: 5, name: "tags", kind: .multiSelect, options: []),
        AttributeGroup(id: 6, name: "seen", kind: .date),
    ])

func check(_ text: String) throws(QueryError) -> CheckedQuery { try QueryParser.parse(text).checked(against: schema) }

@Suite struct CheckerTests {
    @Test func namesResolveToTheSchema() throws {
        #expect(try check("labels.cat > 3") == .test(.labelCount(labelID: 2), Predicate(op: .greater, values: [.number(3)])))
        #expect(try check("labels.\"traffic light\" in [1, 2]")
            == .test(.labelCount(labelID: 3), Predicate(op: .in, values: [.number(1), .number(2)])))
        #expect(try check("attribute.weather = \"rain\"") == .test(.attribute("weather"), Predicate(op: .equal, values: [.text("rain")])))
        #expect(try check("attribute.occluded != true") == .test(.attribute("occluded"), Predicate(op: .notEqual, values: [.bool(true)])))
        #expect(try check("file.type = \"image\"") == .test(.file(.type), Predicate(op: .equal, values: [.text("image")])))
        #expect(try check("file.metadata.iso > 100") == .test(.fileMetadata(["iso"]), Predicate(op: .greater, values: [.number(100)])))
        #expect(try check("attribute.seen >= 2024-05-01") == .test(.attribute("seen"), Predicate(op: .greaterOrEqual, values: [.text("2024-05-01")])))
    }

    @Test func aDayComparedWithATimeMeansTheWholeDay() throws {
        let day = Double(1_714_521_600_000)  // 2024-05-01T00:00:00Z
        let next = day + 86_400_000
        func t(_ op: ComparisonOperator, _ v: Double) -> CheckedQuery { .test(.file(.created), Predicate(op: op, values: [.number(v)])) }
        #expect(try check("file.created = 2024-05-01") == .and(t(.greaterOrEqual, day), t(.less, next)))
        #expect(try check("file.created != \"2024-05-01\"") == .or(t(.less, day), t(.greaterOrEqual, next)))
        #expect(try check("file.created <= 2024-05-01") == t(.less, next))
        #expect(try check("file.created > 2024-05-01") == t(.greaterOrEqual, next))
        #expect(try check("file.created < 2024-05-01") == t(.less, day))
        #expect(try check("file.created >= 2024-05-01T12:00:00.5Z") == t(.greaterOrEqual, day + 43_200_500))
    }

    /// Every checking error: its column, its words and, for unknown names, the closest ones.
    @Test(arguments: [
        ("labels.persn > 0", 8, "unknown label \"persn\"", ["person"]),
        ("labels.Cat > 0", 8, "unknown label", ["cat", "car"]),
        ("attribute.wether = \"rain\"", 11, "unknown attribute group", ["weather"]),
        ("attribute.weather = \"rian\"", 21, "has no value \"rian\"", ["rain"]),
        ("file.type = \"imag\"", 13, "has no value", ["image"]),
        ("file.status in [\"complete\", \"done\"]", 29, "has no value", [String]()),
        ("labels.cat = \"3\"", 14, "compared with a number, not a string", []),
        ("labels.cat contains \"x\"", 12, "contains needs a string field", []),
        ("file.width >= \"640\"", 15, "compared with a number", []),
        ("file.name > 3", 13, "compared with a string", []),
        ("attribute.occluded > true", 20, "no order", []),
        ("file.type < \"video\"", 11, "no order", []),
        ("attribute.score = \"high\"", 19, "compared with a number", []),
        ("file.created > \"yesterday\"", 16, "is not a date", []),
        ("file.created > 2024-02-30", 16, "is not a date", []),
        ("labels.cat in [1, \"two\"]", 19, "compared with a number", []),
        ("file.metadata.iso contains 3", 19, "contains needs a string field", []),
    ])
    func checkingErrorsNameTheirColumn(text: String, column: Int, message: String, suggestions: [String]) {
        do {
            _ = try check(text)
            Issue.record("\(text) passed the checker")
        } catch {
            #expect(error.column == column, "\(text): \(error.description)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
            #expect(error.suggestions == suggestions, "\(text)")
        }
    }

    @Test func theExcerptIsTheTextAsWritten() {
        let error = #expect(throws: QueryError.self) { try check("labels.person  >  0 and labels.persn > 1") }
        #expect(error?.column == 32)
        #expect(error?.description.hasSuffix("""
              labels.person  >  0 and labels.persn > 1
                                             ^
            """) == true)
    }
}
