import SluiceModel
import Testing

@testable import SluiceQuery

@Suite struct ParserTests {
    func comparison(_ text: String) throws(QueryError) -> Comparison {
        guard case .comparison(let c) = try QueryParser.parse(text).expression else {
            Issue.record("\(text) is not one comparison")
            throw QueryError("not a comparison", column: 0, query: text)
        }
        return c
    }

    @Test func everyEntityParses() throws {
        #expect(try comparison("labels.cat > 3").field == .label("cat"))
        #expect(try comparison("labels.\"traffic light\" > 0").field == .label("traffic light"))
        #expect(try comparison("labels.any >= 10").field == .anyLabel)
        #expect(try comparison("labels.\"any\" >= 10").field == .label("any"), "a quoted any is a label's name")
        #expect(try comparison("label.cat = 1").field == .label("cat"), "the singular is accepted")
        for field in FileField.allCases {
            #expect(try comparison("file.\(field.rawValue) = 1").field == .file(field))
        }
        #expect(try comparison("file.byte_size > 1").field == .file(.size))
        #expect(try comparison("file.created_at > 2024-01-01").field == .file(.created))
        #expect(try comparison("file.metadata.camera.model = \"X\"").field == .fileMetadata(["camera", "model"]))
        #expect(try comparison("attribute.color = \"red\"").field == .attribute("color"))
        #expect(try comparison("attribute.\"is occluded\" = true").field == .attribute("is occluded"))
        #expect(try comparison("dataset.name = \"train\"").field == .datasetName)
        #expect(try comparison("directory.name = \"train\"").field == .datasetName, "Diffgram's word for a dataset")
        #expect(try comparison("dataset.id = 3").field == .datasetID)
        #expect(try comparison("dataset.tag = \"reviewed\"").field == .datasetTag)
        #expect(try comparison("frames.car > 100").field == .frames("car"))
        #expect(try comparison("frames.any >= 1").field == .frames(nil))
        #expect(try comparison("frames.\"any\" >= 1").field == .frames("any"), "a quoted any is a label's name")
        #expect(try comparison("tracks.\"traffic light\" = 2").field == .tracks("traffic light"))
        #expect(try comparison("track.any > 0").field == .tracks(nil), "the singular is accepted")
        #expect(try comparison("frame.car > 0").field == .frames("car"))
    }

    /// Diffgram's spellings parse to the tree of Sluice's: the same query, whichever is written.
    @Test(arguments: [
        ("file.sensor = 'A'", "file.metadata.sensor = 'A'"),
        ("file.camera.model = 'X'", "file.metadata.camera.model = 'X'"),
        ("file.\"lens mm\" > 35", "file.metadata.\"lens mm\" > 35"),
        ("dataset_tag.tag in ['reviewed']", "dataset.tag in ['reviewed']"),
        ("DATASET_TAG.tag = 'a'", "dataset.tag = 'a'"),
        ("2 < labels.cat", "labels.cat > 2"),
        ("2 <= labels.cat", "labels.cat >= 2"),
        ("2 > labels.cat", "labels.cat < 2"),
        ("2 >= labels.cat", "labels.cat <= 2"),
        ("0 = labels.cat", "labels.cat = 0"),
        ("'rain' != attribute.weather", "attribute.weather != 'rain'"),
        ("true = attribute.occluded", "attribute.occluded = true"),
        ("2024-05-01 < file.created", "file.created > 2024-05-01"),
        ("640 <= file.width and not 3 = dataset.id", "file.width >= 640 and not dataset.id = 3"),
    ])
    func diffgramFormsParseToSluicesTree(diffgram: String, sluice: String) throws {
        #expect(try QueryParser.parse(diffgram) == QueryParser.parse(sluice))
    }

    @Test func builtInFileFieldsComeBeforeMetadataKeys() throws {
        #expect(try comparison("file.width > 1").field == .file(.width))
        #expect(try comparison("file.WIDTH > 1").field == .file(.width), "built-in fields are case-insensitive, as before")
        #expect(try comparison("file.\"width\" > 1").field == .file(.width))
        #expect(try comparison("file.widht > 1").field == .fileMetadata(["widht"]), "any other key is a metadata key")
        #expect(try comparison("file.Sensor = 'A'").field == .fileMetadata(["Sensor"]), "metadata keys keep their case")
        #expect(try comparison("file.metadata.width > 1").field == .fileMetadata(["width"]), "the explicit form reaches any key")
    }

    @Test func theValueFirstKeepsTheColumnsAsWritten() throws {
        let c = try comparison("2 <  labels.cat")
        #expect(c.valueColumn == 1 && c.operatorColumn == 3 && c.fieldColumn == 6 && c.nameColumn == 13)
        #expect(c.op == .greater && c.value == .number(2))
    }

    @Test func everyOperatorAndValueParses() throws {
        let cases: [(String, ComparisonOperator)] = [
            ("=", .equal), ("==", .equal), ("!=", .notEqual), ("<>", .notEqual), ("<", .less),
            ("<=", .lessOrEqual), (">", .greater), (">=", .greaterOrEqual),
        ]
        for (text, op) in cases {
            let c = try comparison("labels.cat \(text) 3")
            #expect(c.op == op && c.value == .number(3), "\(text)")
        }
        #expect(try comparison("labels.cat IN [1, 2,3]").value == .list([.number(1), .number(2), .number(3)]))
        #expect(try comparison("labels.cat in []").value == .list([]))
        #expect(try comparison("file.name CONTAINS 'dog'").op == .contains)
        #expect(try comparison("file.metadata.x = -2.5").value == .number(-2.5))
        #expect(try comparison("file.metadata.x = 1e3").value == .number(1000))
        #expect(try comparison("file.metadata.x = .5").value == .number(0.5))
        #expect(try comparison("attribute.a = TRUE").value == .bool(true))
        #expect(try comparison("attribute.a = false").value == .bool(false))
        #expect(try comparison("file.created > 2024-05-01").value == .date("2024-05-01"))
        #expect(try comparison("file.created > 2024-05-01T12:30:00.250Z").value == .date("2024-05-01T12:30:00.250Z"))
        #expect(try comparison(#"file.name = "a \"quoted\" \\ name""#).value == .string(#"a "quoted" \ name"#))
    }

    @Test func precedenceIsNotThenAndThenOr() throws {
        let q = try QueryParser.parse("not labels.a > 1 and labels.b = 0 or file.width >= 640").expression
        guard case .or(.and(.not(.comparison(let a)), .comparison(let b)), .comparison(let w)) = q else {
            Issue.record("wrong tree: \(q)")
            return
        }
        #expect(a.field == .label("a") && b.field == .label("b") && w.field == .file(.width))
        let grouped = try QueryParser.parse("labels.a > 1 AND (labels.b = 0 OR NOT file.width >= 640)").expression
        guard case .and(.comparison, .or(.comparison, .not(.comparison))) = grouped else {
            Issue.record("wrong tree: \(grouped)")
            return
        }
    }

    @Test func keywordsAfterADotAreNames() throws {
        #expect(try comparison("labels.and > 0").field == .label("and"))
        #expect(try comparison("attribute.in = \"x\"").field == .attribute("in"))
    }

    /// Every syntax error names the column where the fault is.
    @Test(arguments: [
        ("labels.person >", 16, "expected a value"),
        ("labels.person", 14, "expected a comparison"),
        ("labelz.cat > 1", 1, "unknown entity"),
        ("labels cat > 1", 8, "expected \".\""),
        ("file.[ > 1", 6, "expected a name after \"file.\""),
        ("file.sensor. = 1", 14, "expected a name after \"file.sensor.\""),
        ("2 < 3", 5, "expected a field"),
        ("2 in labels.cat", 3, "write the field first"),
        ("'x' contains file.name", 5, "write the field first"),
        ("2 labels.cat", 3, "expected a comparison"),
        ("2 < labels.cat < 3", 16, "expected \"and\", \"or\""),
        ("dataset_tag.name = 'x'", 13, "unknown dataset_tag field"),
        ("labels.cat > 1 and", 19, "expected a field"),
        ("(labels.cat > 1", 16, "missing \")\""),
        ("labels.cat > 1)", 15, "expected \"and\", \"or\""),
        ("labels.cat ! 1", 12, "expected \"!=\""),
        ("file.name = \"abc", 13, "unterminated string"),
        ("labels.cat in [1 2]", 18, "expected \",\" or \"]\""),
        ("labels.cat in 1", 15, "expected \"[\""),
        ("file.name = dog", 13, "quote strings"),
        ("labels.cat > 3x", 14, "cannot run into a word"),
        ("file.metadata > 1", 15, "expected a key"),
        ("", 1, "empty query"),
        ("labels.cat > 1 & labels.dog > 1", 16, "unexpected character"),
        ("dataset.title = \"x\"", 9, "unknown dataset field"),
    ])
    func syntaxErrorsNameTheirColumn(text: String, column: Int, message: String) {
        do {
            let query = try QueryParser.parse(text)
            Issue.record("\(text) parsed as \(query.normalized)")
        } catch {
            #expect(error.column == column, "\(text): \(error.description)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
    }

    @Test func anErrorShowsACaretUnderItsColumn() {
        let error = #expect(throws: QueryError.self) { try QueryParser.parse("labelz.cat > 1") }
        #expect(error?.suggestions == ["labels"])
        #expect(error?.description == """
            column 1: unknown entity "labelz"; did you mean "labels"?
              labelz.cat > 1
              ^
            """)
        let deep = #expect(throws: QueryError.self) { try QueryParser.parse(String(repeating: "(", count: 500) + "labels.a > 1") }
        #expect(deep?.message.contains("nests more than") == true)
    }
}
