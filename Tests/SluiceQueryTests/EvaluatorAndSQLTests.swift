import SluiceModel
import Testing

@testable import SluiceQuery

/// A file with the given labels (by id), attribute values, width and metadata.
func item(
    _ position: Int, labels: [Int64] = [], attributes: [[String: JSONValue]] = [], width: Int? = 640,
    name: String = "a.jpg", metadata: [String: JSONValue] = [:]
) -> Item {
    let created = Timestamp(milliseconds: 1_714_521_600_000 + Int64(position) * 3_600_000)
    let file = File(
        id: Int64(position + 1), projectID: "p", type: .image, name: name, media: Media(width: width),
        metadata: metadata, createdAt: created, updatedAt: created)
    let labelled = labels.map {
        Instance(fileID: file.id, labelID: $0, kind: .box, bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 1, yMax: 1))
    }
    let tagged = attributes.map { Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil, attributes: $0) }
    return Item(position: position, file: file, instances: labelled + tagged)
}

@Suite struct EvaluatorTests {
    func matches(_ text: String, _ item: Item, datasets: [HoldingDataset] = [HoldingDataset(id: 1, name: "Default")]) throws -> Bool {
        try check(text).matches(item, datasets: datasets)
    }

    func matches(_ text: String, _ item: Item, datasets names: Set<String>) throws -> Bool {
        try matches(text, item, datasets: names.sorted().enumerated().map { HoldingDataset(id: Int64($0.offset + 1), name: $0.element) })
    }

    @Test func labelCountsCountLiveInstancesAndZeroIncludesAbsence() throws {
        let twoCats = item(0, labels: [2, 2, 1])
        let none = item(1)
        #expect(try matches("labels.cat = 2", twoCats))
        #expect(try matches("labels.cat = 0", none), "a file with no cat has zero cats")
        #expect(try !matches("labels.cat > 0", none))
        #expect(try matches("labels.cat in [0, 5]", none))
        #expect(try matches("labels.any = 3", twoCats))
        #expect(try matches("labels.any = 0", item(2, attributes: [["weather": .string("rain")]])), "unlabelled instances are not counted")
        #expect(try matches("labels.person >= 1 and labels.cat < 3", twoCats))
        #expect(try !matches("not labels.person >= 1", twoCats))
    }

    @Test func framesAndTracksCountDistinctValuesOfLiveLabelledInstances() throws {
        var video = item(0, labels: [2, 2, 2, 1])
        video.file.type = .video
        for (index, (frame, track)) in [(5, 0), (6, 0), (5, 1), (9, 2)].enumerated() {
            video.instances[index].frame = frame
            video.instances[index].track = track
        }
        video.instances.append(Instance(fileID: video.file.id, labelID: nil, kind: .global, bbox: nil, frame: 40, track: 9))
        #expect(try matches("frames.cat = 2", video), "cats on frames 5 and 6 (twice on 5)")
        #expect(try matches("tracks.cat = 2", video), "tracks 0 and 1")
        #expect(try matches("frames.any = 3 and tracks.any = 3", video), "an unlabelled instance is no frame of a label")
        #expect(try matches("frames.cat = 0 and tracks.any = 0", item(1, labels: [2])), "an image has no frames")
    }

    @Test func fileFieldsAndMissingValues() throws {
        #expect(try matches("file.width >= 640", item(0)))
        #expect(try !matches("file.width >= 640", item(0, width: nil)), "a missing width matches no comparison")
        #expect(try !matches("file.width != 640", item(0, width: nil)))
        #expect(try matches("not file.width = 640", item(0, width: nil)), "not is the exact complement")
        #expect(try matches("file.name contains \"b.j\"", item(0, name: "ab.jpg")))
        #expect(try !matches("file.name contains \"B\"", item(0, name: "ab.jpg")), "contains is case-sensitive")
        #expect(try matches("file.name < \"b\"", item(0, name: "a-z")))
        #expect(try matches("file.type = \"image\" and file.status in [\"pending\"]", item(0)))
        #expect(try matches("file.created = 2024-05-01", item(23)), "23:00 is on the day")
        #expect(try !matches("file.created = 2024-05-01", item(24)))
        #expect(try matches("file.created > 2024-05-01", item(24)))
        #expect(try matches("file.id = 5", item(4)))
    }

    @Test func metadataComparesOnlyValuesOfTheLiteralsType() throws {
        let withISO = item(0, metadata: ["iso": .number(400), "camera": .object(["model": .string("X100")]), "raw": .bool(true)])
        #expect(try matches("file.metadata.iso > 100", withISO))
        #expect(try !matches("file.metadata.iso = \"400\"", withISO), "a number is not the string")
        #expect(try matches("file.metadata.camera.model contains \"100\"", withISO))
        #expect(try matches("file.metadata.raw = true", withISO))
        #expect(try !matches("file.metadata.missing != 1", withISO))
    }

    @Test func attributesMatchAnyInstanceAndAnyElement() throws {
        let tagged = item(0, attributes: [["weather": .string("rain")], ["weather": .string("sun"), "tags": .array([.string("a"), .string("b")])]])
        #expect(try matches("attribute.weather = \"rain\"", tagged))
        #expect(try matches("attribute.weather = \"sun\"", tagged))
        #expect(try matches("attribute.weather != \"rain\"", tagged), "some value is not rain")
        #expect(try !matches("attribute.weather = \"fog\"", tagged))
        #expect(try matches("attribute.tags = \"b\"", tagged), "a multi-select matches any of its values")
        #expect(try !matches("attribute.weather = \"rain\"", item(1)))
        #expect(try matches("attribute.occluded = false", item(2, attributes: [["occluded": .bool(false)]])))
        #expect(try matches("attribute.score >= 0.5", item(3, attributes: [["score": .number(0.75)]])))
    }

    @Test func datasetNames() throws {
        #expect(try matches("dataset.name = \"train\"", item(0), datasets: ["train", "all"]))
        #expect(try !matches("dataset.name = \"train\"", item(0), datasets: ["val"]))
        #expect(try matches("dataset.name contains \"ai\"", item(0), datasets: ["train"]))
    }

    @Test func datasetIDsAndTagsMatchAnyDatasetThatHoldsTheFile() throws {
        let held = [HoldingDataset(id: 3, name: "train", tags: ["reviewed", "night"]), HoldingDataset(id: 7, name: "all")]
        #expect(try matches("dataset.id = 3", item(0), datasets: held))
        #expect(try matches("dataset.id in [5, 7]", item(0), datasets: held))
        #expect(try !matches("dataset.id in [5]", item(0), datasets: held))
        #expect(try matches("dataset.id != 3", item(0), datasets: held), "some dataset that holds it is not 3, as dataset.name")
        #expect(try !matches("dataset.id != 3", item(0), datasets: [held[0]]))
        #expect(try matches("dataset.tag = 'reviewed'", item(0), datasets: held))
        #expect(try matches("dataset_tag.tag in ['x', 'night']", item(0), datasets: held))
        #expect(try !matches("dataset.tag = 'reviewed'", item(0), datasets: [held[1]]), "a dataset without tags has none to match")
        #expect(try !matches("dataset.tag != 'x'", item(0), datasets: [held[1]]))
        #expect(try matches("not dataset.tag = 'reviewed'", item(0), datasets: [held[1]]))
    }

    @Test func diffgramFormsMeanWhatSluicesDo() throws {
        let withSensor = item(0, labels: [2, 2, 2, 3], metadata: ["sensor": .string("A"), "iso": .number(400)])
        let pairs = [
            ("labels.traffic_light > 0", "labels.\"traffic light\" > 0"),
            ("file.sensor = 'A'", "file.metadata.sensor = 'A'"),
            ("file.iso > 100", "file.metadata.iso > 100"),
            ("2 < labels.cat", "labels.cat > 2"),
            ("3 <= labels.cat", "labels.cat >= 3"),
            ("dataset.id = 1", "dataset.id in [1]"),
        ]
        for (diffgram, sluice) in pairs {
            for candidate in [withSensor, item(1)] {
                #expect(try matches(diffgram, candidate) == matches(sluice, candidate), "\(diffgram)")
            }
            #expect(try matches(diffgram, withSensor), "\(diffgram)")
        }
    }
}

@Suite struct SQLTests {
    func sql(_ text: String) throws -> CompiledQuery { try check(text).sql(dialect: SQLiteDialect()) }

    @Test func labelConditionsAreSemiJoinsOnLabelCounts() throws {
        let positive = try sql("labels.cat > 3")
        #expect(positive.whereClause == "f.id IN (SELECT file_id FROM label_counts WHERE label_id = ? AND count > ?)")
        #expect(positive.parameters == [.integer(2), .integer(3)])
        let zero = try sql("labels.cat = 0")
        #expect(zero.whereClause == "f.id NOT IN (SELECT file_id FROM label_counts WHERE label_id = ? AND NOT (count = ?))")
        let list = try sql("labels.\"traffic light\" in [0, 2]")
        #expect(list.whereClause.hasPrefix("f.id NOT IN") && list.parameters == [.integer(3), .integer(0), .integer(2)])
        #expect(try !sql("labels.cat > 1 and labels.any < 4 or not labels.person = 0").whereClause.contains("instances"),
                "no label condition reads instances")
    }

    @Test func requiredLabelsAreTheTopLevelLabelTestsThatAbsenceFails() throws {
        #expect(try check("labels.cat > 0 and (labels.person > 1 and labels.car = 0) and file.width > 1").requiredLabels == [2, 1])
        #expect(try check("labels.cat in [1, 2] and labels.car < 3").requiredLabels == [2])
        #expect(try check("labels.cat > 0 or labels.person > 1").requiredLabels == [], "either may be missing")
        #expect(try check("labels.cat in [0, 1]").requiredLabels == [])
    }

    @Test func valuesAreAlwaysParameters() throws {
        let compiled = try sql("file.name contains \"x'); DROP TABLE files; --\" or attribute.weather = \"rain\" or file.metadata.\"it's\" = 2.5")
        #expect(!compiled.whereClause.contains("DROP") && !compiled.whereClause.contains("rain") && !compiled.whereClause.contains("it's"))
        #expect(compiled.parameters == [
            .text("x'); DROP TABLE files; --"), .text("$.\"weather\""), .text("rain"),
            .text("$.\"it's\""), .text("$.\"it's\""), .real(2.5),
        ])
        #expect(compiled.whereClause.filter { $0 == "?" }.count == compiled.parameters.count)
    }

    @Test func datasetIDsAndTagsAreSemiJoinsOnMembership() throws {
        let ids = try sql("dataset.id in [3, 7]")
        #expect(ids.whereClause == "EXISTS (SELECT 1 FROM dataset_files m WHERE m.file_id = f.id AND m.removed_at IS NULL "
            + "AND m.dataset_id IN (?, ?))")
        #expect(ids.parameters == [.integer(3), .integer(7)])
        let tags = try sql("dataset_tag.tag = 'reviewed'")
        #expect(tags.whereClause == "EXISTS (SELECT 1 FROM dataset_files m JOIN dataset_tags t ON t.dataset_id = m.dataset_id "
            + "WHERE m.file_id = f.id AND m.removed_at IS NULL AND t.tag = ?)")
        #expect(tags.parameters == [.text("reviewed")])
    }

    @Test func nullableColumnsStayTwoValued() throws {
        #expect(try sql("file.width >= 640").whereClause == "(f.width IS NOT NULL AND f.width >= ?)")
        #expect(try sql("file.name = \"a\"").whereClause == "f.name = ?")
        #expect(try sql("not file.mime_type != \"image/png\"").whereClause
            == "NOT (f.mime_type IS NOT NULL AND f.mime_type <> ?)")
        #expect(try sql("file.name in []").whereClause == "1 = 0")
    }

    /// Placeholders are numbered from the offset for dialects that number them.
    @Test func numberedPlaceholdersStartAtTheOffset() throws {
        struct Numbered: SQLDialect {
            let base = SQLiteDialect()
            func placeholder(_ index: Int) -> String { "$\(index)" }
            func jsonValueTest(document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String) -> String {
                base.jsonValueTest(document: document, keys: keys, kind: kind, binder: binder, compare: compare)
            }
            func jsonAnyElementTest(document: String, keys: [String], kind: ScalarKind, binder: SQLBinder, compare: (String) -> String) -> String {
                base.jsonAnyElementTest(document: document, keys: keys, kind: kind, binder: binder, compare: compare)
            }
            func contains(_ haystack: String, _ needle: String) -> String { base.contains(haystack, needle) }
            func boolean(_ value: Bool) -> SQLValue { .integer(value ? 1 : 0) }
        }
        let compiled = try check("labels.cat > 3 and file.metadata.iso = 1").sql(dialect: Numbered(), parameterOffset: 2)
        #expect(compiled.whereClause == "(f.id IN (SELECT file_id FROM label_counts WHERE label_id = $2 AND count > $3) AND "
            + "(coalesce(json_type(f.metadata, $4), '') IN ('integer', 'real') AND json_extract(f.metadata, $5) = $6))")
    }

    @Test func aStoreMayNameTheFileIDAndLearnsWhetherTheFileRowIsRead() throws {
        let labels = try check("labels.cat > 3 or not attribute.occluded = true or frames.any > 0")
            .sql(dialect: SQLiteDialect(), fileID: "df.file_id")
        #expect(!labels.readsFileRow)
        #expect(!labels.whereClause.contains("f.id") && labels.whereClause.contains("df.file_id IN ("))
        #expect(labels.whereClause.components(separatedBy: "df.file_id").count == 4, "every term reads the id given")
        for text in ["labels.cat > 3 and file.width >= 640", "file.metadata.iso = 1", "not file.name contains \"x\""] {
            #expect(try check(text).sql(dialect: SQLiteDialect(), fileID: "df.file_id").readsFileRow, "\(text)")
        }
    }
}
