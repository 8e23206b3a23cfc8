import SluiceModel
import Testing

@testable import SluiceQuery

let schema = QuerySchema(
    labels: [
        Label(id: 1, name: "person", color: "#000000"), Label(id: 2, name: "cat", color: "#000000"),
        Label(id: 3, name: "traffic light", color: "#000000"), Label(id: 4, name: "car", color: "#000000"),
        // Both spellings exist: the one with the underscore is a label of its own.
        Label(id: 5, name: "parking_meter", color: "#000000"), Label(id: 6, name: "parking meter", color: "#000000"),
    ],
    attributeGroups: [
        AttributeGroup(id: 1, name: "weather", kind: .select, options: ["rain", "sun", "fog"]),
        AttributeGroup(id: 2, name: "occluded", kind: .boolean),
        AttributeGroup(id: 3, name: "score", kind: .number),
        AttributeGroup(id: 4, name: "note", kind: .text),
        AttributeGroup(id: 5, name: "tags", kind: .multiSelect, options: []),
        AttributeGroup(id: 6, name: "seen", kind: .date),
        AttributeGroup(id: 7, name: "time of day", kind: .select, options: ["day", "night"]),
    ])

func check(_ text: String) throws(QueryError) -> CheckedQuery { try QueryParser.parse(text).checked(against: schema) }

@Suite struct CheckerTests {
    @Test func framesAndTracksCountALabelsOrAnyLabels() throws {
        #expect(try check("frames.cat > 3") == .test(.frameCount(labelID: 2), Predicate(op: .greater, values: [.number(3)])))
        #expect(try check("tracks.any = 1") == .test(.trackCount(labelID: nil), Predicate(op: .equal, values: [.number(1)])))
        #expect(try check("frames.cat > 0 and tracks.cat >= 2").requiredLabels == [2, 2], "a frame of cats needs a cat")
        #expect(try check("frames.cat < 2").requiredLabels.isEmpty)
        let unknown = #expect(throws: QueryError.self) { try check("tracks.kat > 0") }
        #expect(unknown?.column == 8 && unknown?.suggestions.contains("cat") == true)
        #expect(throws: QueryError.self, "a count is compared with numbers") { try check("frames.cat = \"many\"") }
        #expect(try QueryParser.parse("frame.\"traffic light\" > 0 or track.any = 0").normalized
            == "frames.\"traffic light\" > 0 or tracks.any = 0")
    }

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

    @Test func underscoresFallBackToSpacesOnlyWhenTheNameDoesNotExist() throws {
        func label(_ id: Int64) -> CheckedQuery { .test(.labelCount(labelID: id), Predicate(op: .greater, values: [.number(0)])) }
        #expect(try check("labels.traffic_light > 0") == label(3), "Diffgram reads underscores as spaces")
        #expect(try check("labels.parking_meter > 0") == label(5), "a label that has the underscore wins")
        #expect(try check("labels.\"parking meter\" > 0") == label(6))
        #expect(try check("attribute.time_of_day = 'night'")
            == .test(.attribute("time of day"), Predicate(op: .equal, values: [.text("night")])),
            "the subject is the group's own name, the key its values are stored under")
    }

    @Test func datasetIDsAndTagsCheck() throws {
        #expect(try check("dataset.id in [3, 7]") == .test(.datasetID, Predicate(op: .in, values: [.number(3), .number(7)])))
        #expect(try check("dataset.id != 3") == .test(.datasetID, Predicate(op: .notEqual, values: [.number(3)])))
        #expect(try check("dataset_tag.tag in ['reviewed']") == .test(.datasetTag, Predicate(op: .in, values: [.text("reviewed")])))
        #expect(try check("dataset.tag contains 'view'") == .test(.datasetTag, Predicate(op: .contains, values: [.text("view")])))
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
        ("labels.trafic_light > 0", 8, "unknown label \"trafic_light\"", ["traffic light"]),
        ("labels.parking-meter > 0", 8, "unknown label", ["parking meter", "parking_meter"]),
        ("attribute.time_of_dya = 'day'", 11, "unknown attribute group", ["time of day"]),
        ("attribute.time_of_day = 'noon'", 25, "has no value \"noon\"", []),
        ("dataset.id > 3", 12, "it has no order", []),
        ("dataset.id = 2.5", 14, "compared with an id (a whole number), not 2.5", []),
        ("dataset.id = '3'", 14, "compared with an id", []),
        ("dataset.id contains 3", 12, "contains needs a string field", []),
        ("dataset.tag = 3", 15, "compared with a string", []),
        ("3 < dataset.id", 3, "it has no order", []),
        ("'3' = labels.cat", 1, "compared with a number, not a string", []),
        ("file.sensor contains 3", 13, "contains needs a string field", []),
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
