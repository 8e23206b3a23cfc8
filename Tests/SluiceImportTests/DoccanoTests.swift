import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceImport

/// Doccano's JSONL in and out: the three shapes Doccano writes (sequence labels, categories,
/// entities and relations), offsets in Unicode scalars on non-ASCII text, faults named by file,
/// line and member with nothing kept, and export → import giving back the same lines.
@Suite struct DoccanoTests {
    /// Sequence labelling on text with accents, Cyrillic and an emoji (a surrogate pair in the
    /// JSON escape, one scalar in Python's `str`), a classification line, a relation line, and
    /// a Doccano 1.x `labels` line without an id after a blank line.
    static let lines = [
        #"{"id": 7, "text": "Zo\u00eb met \u0410\u043d\u043d\u0430 in K\u00f6ln \ud83c\udf89.", "label": [[0, 3, "PER"], [8, 12, "PER"], [16, 20, "LOC"]], "Comments": []}"#,
        #"{"id": 8, "text": "Great food, slow service.", "label": ["positive", "negative"], "meta": {"source": "review"}}"#,
        #"{"id": 9, "text": "Ada works at IBM.", "entities": [{"id": 100, "label": "PER", "start_offset": 0, "end_offset": 3}, {"id": 101, "label": "ORG", "start_offset": 13, "end_offset": 16}], "relations": [{"id": 5, "from_id": 100, "to_id": 101, "type": "works_at"}]}"#,
        "",
        #"{"text": "Paris.", "labels": [[0, 5, "LOC"]]}"#,
    ]

    static func write(_ lines: [String], in directory: URL, name: String = "reviews.jsonl") throws -> String {
        let path = directory.appendingPathComponent(name).path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @discardableResult
    static func importPath(_ path: String, _ store: SQLiteStore, _ dataset: String = "D") async throws -> ImportSummary {
        _ = try await store.ensureProject(Project(id: "p", name: "p"))
        return try await DoccanoImporter().importPath(path, into: store, projectID: "p", datasetName: dataset)
    }

    static func items(_ store: SQLiteStore, _ name: String) async throws -> [Item] {
        let dataset = try #require(try await store.dataset(projectID: "p", name: name))
        return try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
    }

    static func spans(_ item: Item) -> [[String]] {
        item.instances.filter { $0.kind == .span }.map { i in
            let span = i.geometry.span
            return ["\(span?.start ?? -1)", "\(span?.end ?? -1)", i.label ?? ""]
        }
    }

    @Test func eachLineBecomesATextFileWithItsSpansCategoriesAndMembers() async throws {
        try await withTemporaryStore { store, directory in
            let summary = try await Self.importPath(try Self.write(Self.lines, in: directory), store)
            #expect(summary.files == 4 && summary.instances == 8 && summary.media == 4)
            let items = try await Self.items(store, "D")
            #expect(items.map(\.file.name) == ["reviews/7.txt", "reviews/8.txt", "reviews/9.txt", "reviews/line-5.txt"])
            #expect(items.allSatisfy { $0.file.type == .text && $0.file.media.mimeType == "text/plain" })

            let text = try #require(items.first)
            let stored = try String(contentsOfFile: store.media.path(for: try #require(text.file.media.sha256)), encoding: .utf8)
            #expect(stored == "Zoë met Анна in Köln 🎉.")
            #expect(Self.spans(text) == [["0", "3", "PER"], ["8", "12", "PER"], ["16", "20", "LOC"]])
            let scalars = Array(stored.unicodeScalars)
            #expect(String(String.UnicodeScalarView(scalars[8..<12])) == "Анна", "offsets count Unicode scalars")
            #expect(text.file.metadata == ["doccano_id": .number(7), "Comments": .array([])])

            let review = items[1]
            #expect(review.instances.map(\.kind) == [.global, .global])
            #expect(review.instances.compactMap(\.label) == ["positive", "negative"])
            #expect(review.file.metadata["meta"] == .object(["source": .string("review")]))

            let relation = items[2]
            #expect(Self.spans(relation) == [["0", "3", "PER"], ["13", "16", "ORG"]])
            #expect(relation.instances.map { $0.metadata["doccano_id"] } == [.number(100), .number(101)])
            guard case .array(let relations)? = relation.file.metadata["doccano_relations"] else {
                Issue.record("the relations were not kept: \(relation.file.metadata)")
                return
            }
            #expect(relations.count == 1)

            #expect(Self.spans(items[3]) == [["0", "5", "LOC"]])
            #expect(items[3].file.metadata.isEmpty)
            let labels = try await store.labels(projectID: "p").map(\.name).sorted()
            #expect(labels == ["LOC", "ORG", "PER", "negative", "positive"])
        }
    }

    @Test func anIDNamesItsFileOnlyWhenItIsAPlainName() throws {
        func name(_ id: String) throws -> String {
            let line = #"{"text": "t", "id": "# + String(decoding: try JSONEncoder().encode(id), as: UTF8.self) + "}"
            return DoccanoImporter.name(
                stem: "s", document: try DoccanoDocument(line: Array(line.utf8)[...], number: 4, file: "s.jsonl"), line: 4)
        }
        #expect(try name("doc-1") == "s/doc-1.txt")
        for refused in ["", "..", "a/b", "a\\b", "a\nb", String(repeating: "x", count: 129)] {
            #expect(try name(refused) == "s/line-4.txt", "\(refused.debugDescription)")
        }
    }

    /// Each fault, with the member it names; the file's earlier lines are not kept either.
    static let faults: [(line: String, path: String, message: String)] = [
        (#"{"text": "Köln", "label": [[1, 5, "LOC"]]}"#, "label[0]", "ends at 5, past the text's 4 characters"),
        (#"{"text": "Köln", "label": [[3, 1, "LOC"]]}"#, "label[0]", "needs 0 ≤ start < end, got [3, 1]"),
        (#"{"text": "Köln", "label": [[0, 1.5, "LOC"]]}"#, "label[0][1]", "expected a whole number of characters"),
        (#"{"text": "Köln", "label": [[0, 1]]}"#, "label[0]", "a span is [start, end, \"LABEL\"], got 2 members"),
        (#"{"text": 5}"#, "text", "a document needs its text as a string"),
        (#"[1, 2]"#, "", "a line is a JSON object, got another value"),
        (
            #"{"text": "Ada at IBM", "entities": [{"id": 1, "label": "PER", "start_offset": 0, "end_offset": 3}], "relations": [{"from_id": 1, "to_id": 2, "type": "at"}]}"#,
            "relations[0].to_id", "names no entity of this line"
        ),
        (#"{"text": "x", "label": [], "labels": []}"#, "labels", "both `label` and `labels`: a line has one of them"),
    ]

    @Test(arguments: faults.indices)
    func aFaultyLineIsNamedByFileLineAndMemberAndNothingIsKept(fault: Int) async throws {
        try await withTemporaryStore { store, directory in
            let bad = Self.faults[fault]
            let path = try Self.write([Self.lines[0], "", bad.line], in: directory)
            let error = await #expect(throws: ImportError.self) { try await Self.importPath(path, store) }
            #expect(error == .invalid(file: "reviews.jsonl", line: 3, path: bad.path, message: bad.message))
            #expect(error?.description.hasPrefix("reviews.jsonl:3") == true)
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "the failed import left no dataset")
            #expect(try await store.labels(projectID: "p").isEmpty, "nor a label")
        }
    }

    @Test func malformedJSONAndDeepNestingNameTheColumn() async throws {
        try await withTemporaryStore { store, directory in
            let path = try Self.write([#"{"text": "a", "label": [[0, 1, "X"]"#], in: directory)
            let error = await #expect(throws: ImportError.self) { try await Self.importPath(path, store) }
            guard case .invalid("reviews.jsonl", 1, "", let message)? = error, message.hasPrefix("malformed JSON at column ") else {
                Issue.record("expected malformed JSON at a column of line 1, got \(String(describing: error))")
                return
            }
            // A stranger's file nested a million deep is refused, not a stack overflow.
            let deep = #"{"text": "a", "meta": "# + String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000) + "}"
            let deepPath = try Self.write([deep], in: directory, name: "deep.jsonl")
            let deepError = await #expect(throws: ImportError.self) { try await Self.importPath(deepPath, store) }
            guard case .invalid("deep.jsonl", 1, "", let deepMessage)? = deepError, deepMessage.contains("nest") else {
                Issue.record("expected the nesting refused, got \(String(describing: deepError))")
                return
            }
            #expect(try await store.dataset(projectID: "p", name: "D") == nil)
        }
    }

    @Test func aFolderImportsEveryJSONLFileAndTheExportReadsBackTheSameLines() async throws {
        try await withTemporaryStore { store, directory in
            let folder = directory.appendingPathComponent("export")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            _ = try Self.write(Array(Self.lines[0..<3]), in: folder, name: "a.jsonl")
            _ = try Self.write([Self.lines[4]], in: folder, name: "b.jsonl")
            try "not a doccano file".write(to: folder.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
            let summary = try await Self.importPath(folder.path, store)
            #expect(summary.files == 4)

            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let out = directory.appendingPathComponent("out").path
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let exported = try await FolderExporter(source: ExportSource(store: store, dataset: dataset), format: .doccano)
                .write(into: out)
            #expect(exported.files == 4 && exported.instances == 8 && exported.skipped == 0)

            // Line for line, the JSON objects Doccano wrote (the 1.x `labels` read as `label`).
            func objects(_ lines: [String]) throws -> [JSONValue] {
                try lines.filter { !$0.isEmpty }.map { line in
                    var reader = JSONReader(bytes: Array(line.utf8))
                    return try reader.readValue()
                }
            }
            let written = try String(contentsOfFile: "\(out)/all.jsonl", encoding: .utf8).components(separatedBy: "\n")
            let expected = try objects(Array(Self.lines[0..<3]) + [#"{"text": "Paris.", "label": [[0, 5, "LOC"]]}"#])
            #expect(try objects(written) == expected)

            try await Self.importPath("\(out)/all.jsonl", store, "again")
            let before = try await Self.items(store, "D"), after = try await Self.items(store, "again")
            #expect(after.map(Self.spans) == before.map(Self.spans))
            #expect(after.map { $0.instances.map(\.label) } == before.map { $0.instances.map(\.label) })
            #expect(after.map(\.file.media.sha256) == before.map(\.file.media.sha256), "the same texts, stored once")
            #expect(after.map(\.file.metadata) == before.map(\.file.metadata))
        }
    }

    @Test(arguments: StoreEngine.available) func theWriteAPIChecksSpansAgainstTheStoredText(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            let path = try Self.write([Self.lines[0]], in: directory)
            _ = try await DoccanoImporter().importPath(path, into: store, projectID: "p", datasetName: "D")
            let imported = try #require(try await store.dataset(projectID: "p", name: "D"))
            let item = try #require(try await store.items(datasetID: imported.id, range: 0..<1).first)
            let past = InstanceDraft(label: "PER", kind: .span, geometry: Geometry(span: TextSpan(start: 20, end: 24)))
            let error = await #expect(throws: StoreError.self) {
                try await store.editInstances(fileID: item.file.id, .add([past]), expectedRevision: nil, createLabels: false)
            }
            guard case .invalidField(let field)? = error else {
                Issue.record("expected an invalid field, got \(String(describing: error))")
                return
            }
            #expect(field.path == "instances[0].geometry.span" && field.message == "ends at 24, past the text's 23 characters", "\(field)")

            let last = InstanceDraft(label: "PER", kind: .span, geometry: Geometry(span: TextSpan(start: 21, end: 22)))
            let edited = try await store.editInstances(fileID: item.file.id, .add([last]), expectedRevision: nil, createLabels: false)
            #expect(edited.instances.filter { $0.kind == .span }.count == 4)

            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let sha = try #require(item.file.media.sha256)
            let appended = FileDraft(name: "again.txt", sha256: sha, instances: [past])
            let appendError = await #expect(throws: StoreError.self) {
                try await store.appendFiles(datasetID: dataset.id, [appended], createLabels: false)
            }
            guard case .invalidField(let appendField)? = appendError else {
                Issue.record("expected an invalid field, got \(String(describing: appendError))")
                return
            }
            #expect(appendField.path == "files[0].instances[0].geometry.span", "\(appendField)")
        }
    }
}
