import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceQuery
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// Slices over the real store: the SQL the compiler writes against what the reference
/// evaluator decides, and the routes that serve them.
@Suite struct SliceTests {
    /// A generated dataset with attribute values, two more datasets holding some of its files,
    /// dataset tags, labels and a group whose names have spaces or underscores, files with a
    /// `sensor` metadata key and a few deletions, so that every entity (and every Diffgram
    /// spelling of one) has something to match.
    static func prepare(_ store: any Store, _ directory: URL) async throws -> Prepared {
        let dataset = try await store.importGenerated(files: 600, instancesPerFile: 3, labels: 8, projectID: "p", in: directory)
        var items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
        // Diffgram reads `labels.traffic_light` as "traffic light"; "parking_meter" exists as
        // written beside "parking meter", and wins.
        let labels = try await store.labels(projectID: "p")
        for (k, name) in [(1, "traffic light"), (2, "parking_meter"), (3, "parking meter")] {
            try await store.renameLabel(id: try #require(labels.first { $0.name == "label\(k)" }).id, to: name)
        }
        var generator = SplitMix64(seed: 7)
        let weathers = ["rain", "sun", "fog"]
        for index in stride(from: 0, to: items.count, by: 3) {
            let file = items[index].file
            _ = try await store.addInstance(Instance(
                fileID: file.id, labelID: nil, kind: .global, bbox: nil,
                attributes: ["weather": .string(weathers[Int(generator.next() % 3)]),
                             "occluded": .bool(generator.next() % 2 == 0), "score": .number(Double(generator.next() % 10)),
                             "time of day": .string(generator.next() % 2 == 0 ? "day" : "night")]))
        }
        for index in stride(from: 1, to: items.count, by: 7) where !items[index].instances.isEmpty {
            try await store.deleteInstance(id: items[index].instances[0].id)
        }
        // Files whose metadata has a `sensor` (Diffgram's `file.sensor`), appended at the end.
        let trafficLight = try #require(try await store.labels(projectID: "p").first { $0.name == "traffic light" }).id
        _ = try await store.performImport(projectID: "p", datasetName: dataset.name) { writer in
            for i in 0..<40 {
                let id = try writer.insertFile(NewFile(
                    type: .image, name: "sensor-\(i).png", media: Media(width: 640, height: 480),
                    metadata: ["sensor": .string(i % 2 == 0 ? "A" : "B"), "coco_id": .number(Double(1000 + i))]))
                try writer.append(fileID: id)
                // Video-like instances for frames.* and tracks.*: one or two frames and tracks,
                // and on every fourth file no frame or track at all.
                for k in 0..<(i % 3) {
                    let onFrames = i % 4 != 0
                    try writer.insertInstance(NewInstance(
                        fileID: id, labelID: trafficLight, kind: .box, bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 1, yMax: 1),
                        frame: onFrames ? (i + k) % 3 : nil, track: onFrames ? k % 2 : nil))
                }
            }
            return writer.datasetID
        }
        items = try await store.items(datasetID: dataset.id, range: 0..<(dataset.count + 40))
        let otherIDs = items.filter { $0.position % 5 == 0 }.map(\.file.id)
        let nightIDs = items.filter { $0.position % 7 == 3 }.map(\.file.id)
        for (name, ids) in [("Other", otherIDs), ("Night", nightIDs)] {
            _ = try await store.performImport(projectID: "p", datasetName: name) { writer in
                for id in ids { try writer.append(fileID: id) }
                return writer.datasetID
            }
        }
        _ = try await store.ensureAttributeGroup(projectID: "p", name: "weather", kind: .select, options: weathers)
        _ = try await store.ensureAttributeGroup(projectID: "p", name: "occluded", kind: .boolean, options: [])
        _ = try await store.ensureAttributeGroup(projectID: "p", name: "score", kind: .number, options: [])
        _ = try await store.ensureAttributeGroup(projectID: "p", name: "time of day", kind: .select, options: ["day", "night"])
        let other = try #require(try await store.dataset(projectID: "p", name: "Other"))
        let night = try #require(try await store.dataset(projectID: "p", name: "Night"))
        _ = try await store.addDatasetTags(datasetID: dataset.id, ["train"])
        _ = try await store.addDatasetTags(datasetID: other.id, ["reviewed"])
        _ = try await store.addDatasetTags(datasetID: night.id, ["night", "reviewed"])
        let current = try #require(try await store.dataset(id: dataset.id))
        items = try await store.items(datasetID: dataset.id, range: 0..<current.count)
        let defaultHolder = HoldingDataset(id: current.id, name: current.name, tags: ["train"])
        var holders: [Int64: [HoldingDataset]] = [:]
        let (otherSet, nightSet) = (Set(otherIDs), Set(nightIDs))
        for item in items {
            var held = [defaultHolder]
            if otherSet.contains(item.file.id) { held.append(HoldingDataset(id: other.id, name: "Other", tags: ["reviewed"])) }
            if nightSet.contains(item.file.id) {
                held.append(HoldingDataset(id: night.id, name: "Night", tags: ["night", "reviewed"]))
            }
            holders[item.file.id] = held
        }
        return Prepared(dataset: current, items: items, holders: holders, datasetIDs: [current.id, other.id, night.id])
    }

    struct Prepared {
        var dataset: Dataset
        var items: [Item]
        /// The datasets that hold each file, by file id: what the reference evaluator sees.
        var holders: [Int64: [HoldingDataset]]
        /// Default, Other and Night.
        var datasetIDs: [Int64]
    }

    /// A random query over the names the prepared store has, as (Diffgram's spelling where
    /// it has one, Sluice's canonical spelling): the two must mean the same.
    static func randomQuery(_ g: inout SplitMix64, datasetIDs: [Int64], depth: Int = 0) -> (text: String, sluice: String) {
        let roll = g.next() % 10
        if depth < 3, roll < 3 {
            let op = g.pick(["and", "or"])
            let (l, r) = (randomQuery(&g, datasetIDs: datasetIDs, depth: depth + 1), randomQuery(&g, datasetIDs: datasetIDs, depth: depth + 1))
            return ("(\(l.text) \(op) \(r.text))", "(\(l.sluice) \(op) \(r.sluice))")
        }
        if depth < 3, roll == 3 {
            let inner = randomQuery(&g, datasetIDs: datasetIDs, depth: depth + 1)
            return ("not \(inner.text)", "not \(inner.sluice)")
        }
        let comparison = g.pick(["=", "!=", "<", "<=", ">", ">="])
        let mirror = ["<": ">", "<=": ">=", ">": "<", ">=": "<="][comparison] ?? comparison
        let n = Int(g.next() % 4)
        let same = { (text: String) in (text, text) }
        // (as written, canonical) spellings of each label name.
        let label = g.pick([
            ("label0", "label0"), ("traffic_light", "\"traffic light\""), ("\"traffic light\"", "\"traffic light\""),
            ("parking_meter", "parking_meter"), ("\"parking meter\"", "\"parking meter\""), ("label4", "label4"),
        ])
        switch g.next() % 18 {
        case 0: return ("labels.\(label.0) \(comparison) \(n)", "labels.\(label.1) \(comparison) \(n)")
        case 1: return same("labels.any \(comparison) \(Int(g.next() % 8))")
        case 2: return same("file.width \(comparison) \(g.pick([320, 640, 800, 1024, 1280, 1920]))")
        case 3: return same("file.height \(g.pick(["<", ">=", "="])) \(g.pick([240, 480, 720, 1080]))")
        case 4: return same("file.name contains \"\(g.pick(["00001", "5", "99", "png"]))\"")
        case 5: return same("labels.label\(g.pick([0, 4, 5])) in [\(n), \(n + 1)]")
        case 6: return same("attribute.weather \(g.pick(["=", "!="])) \"\(g.pick(["rain", "sun", "fog"]))\"")
        case 7: return same("attribute.occluded = \(g.pick(["true", "false"]))")
        case 8: return same("dataset.name = \"\(g.pick(["Default", "Other", "Night"]))\"")
        case 9:
            // Diffgram: a file key that is no built-in field is a metadata key.
            let key = g.pick(["file.metadata.coco_id", "file.coco_id"])
            let bound = Int(g.next() % 640)
            return ("\(key) \(comparison) \(bound)", "file.metadata.coco_id \(comparison) \(bound)")
        case 10:
            // Diffgram: the value first means the mirrored comparison.
            return ("\(n) \(comparison) labels.\(label.0)", "labels.\(label.1) \(mirror) \(n)")
        case 11:
            let value = g.pick(["A", "B", "C"])
            return (g.pick(["file.sensor = '\(value)'", "'\(value)' = file.sensor"]), "file.metadata.sensor = \"\(value)\"")
        case 12:
            let value = g.pick(["day", "night"])
            let op = g.pick(["=", "!="])
            return ("attribute.time_of_day \(op) '\(value)'", "attribute.\"time of day\" \(op) \"\(value)\"")
        case 13:
            let ids = (0..<Int(g.next() % 3 + 1)).map { _ in String(g.pick(datasetIDs + [999])) }
            if ids.count == 1 {
                let op = g.pick(["=", "!="])
                let canonical = "dataset.id \(op) \(ids[0])"
                return g.next() % 2 == 0 ? same(canonical) : ("\(ids[0]) \(op) dataset.id", canonical)
            }
            return same("dataset.id in [\(ids.joined(separator: ", "))]")
        case 14:
            let tags = (0..<Int(g.next() % 2 + 1)).map { _ in "'\(g.pick(["train", "reviewed", "night", "none"]))'" }
            return ("dataset_tag.tag in [\(tags.joined(separator: ", "))]", "dataset.tag in [\(tags.joined(separator: ", "))]")
        case 15:
            let entity = g.pick(["frames", "tracks"])
            return ("\(entity).\(label.0) \(comparison) \(n % 3)", "\(entity).\(label.1) \(comparison) \(n % 3)")
        case 16:
            let (entity, canonical) = g.pick([("frames", "frames"), ("tracks", "tracks"), ("frame", "frames"), ("track", "tracks")])
            return ("\(entity).any \(comparison) \(n % 3)", "\(canonical).any \(comparison) \(n % 3)")
        default:
            let op = g.pick(["=", "!=", "contains"])
            return same("dataset.tag \(op) '\(g.pick(["train", "reviewed", "night", "view"]))'")
        }
    }

    @Test(arguments: StoreEngine.available) func sqlAgreesWithTheReferenceEvaluatorOnRandomQueries(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let prepared = try await Self.prepare(store, directory)
            let (dataset, items) = (prepared.dataset, prepared.items)
            let schema = QuerySchema(
                labels: try await store.labels(projectID: "p"), attributeGroups: try await store.attributeGroups(projectID: "p"))
            var generator = SplitMix64(seed: 2026)
            var nonTrivial = 0
            for _ in 0..<1500 {
                let (text, sluice) = Self.randomQuery(&generator, datasetIDs: prepared.datasetIDs)
                let query = try QueryParser.parse(text)
                let checked = try query.checked(against: schema)
                // Diffgram's spelling and Sluice's are one query: one tree, one canonical text.
                let canonical = try QueryParser.parse(sluice)
                #expect(try canonical.checked(against: schema) == checked, "\(text) ≠ \(sluice)")
                #expect(query.normalized(against: schema) == canonical.normalized(against: schema), "\(text)")
                let sql = try await store.matchingPositions(datasetID: dataset.id, query: checked)
                let reference = items.filter { checked.matches($0, datasets: prepared.holders[$0.file.id] ?? []) }
                    .map(\.position)
                #expect(sql == reference, "\(text)")
                if sql != reference { break }
                if !sql.isEmpty, sql.count < items.count { nonTrivial += 1 }
            }
            #expect(nonTrivial > 500, "most random queries select a proper subset")
        }
    }

    func withSliceApp(_ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore, Dataset) async throws -> Void) async throws {
        try await withTemporaryStore { store, _ in
            let dataset = try await store.importSample()
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in try await body(client, store, dataset) }
        }
    }

    static func create(_ client: any TestClientProtocol, _ datasetID: Int64, _ query: String) async throws -> (status: HTTPResponse.Status, body: [String: Any]) {
        var payload = JSONOutput()
        payload.object(["query": .string(query)])
        return try await client.execute(
            uri: "/api/v1/datasets/\(datasetID)/slices", method: .post, body: ByteBuffer(bytes: payload.bytes)
        ) { response in
            (response.status, try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:])
        }
    }

    @Test func aSliceIsReadLikeADataset() async throws {
        try await withSliceApp { client, store, dataset in
            let all = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            let expected = all.filter { $0.instances.filter { $0.label == "person" }.count > 2 }
            let (status, slice) = try await Self.create(client, dataset.id, "LABELS.person  >  2")
            #expect(status == .created)
            #expect(slice["query"] as? String == "labels.person > 2")
            #expect(slice["count"] as? Int == expected.count)
            let id = try #require(slice["id"] as? String)
            let page = try await client.execute(uri: "/api/v1/slices/\(id)/items?start=0&end=100", method: .get) {
                try WireDecoder.itemPage(from: Array($0.body.readableBytesView))
            }
            #expect(page.count == expected.count)
            #expect(page.items.map(\.file.id) == expected.map(\.file.id))
            #expect(page.items.map(\.position) == Array(0..<expected.count), "positions are the slice's")
            let middle = try await client.execute(uri: "/api/v1/slices/\(id)/items?start=1&end=3", method: .get) {
                try WireDecoder.itemPage(from: Array($0.body.readableBytesView))
            }
            #expect(middle.items.map(\.file.id) == expected[1..<3].map(\.file.id) && middle.items.map(\.position) == [1, 2])
            let past = try await client.execute(uri: "/api/v1/slices/\(id)/items?start=50&end=60", method: .get) {
                (status: $0.status, page: try WireDecoder.itemPage(from: Array($0.body.readableBytesView)))
            }
            #expect(past.status == .ok && past.page.items.isEmpty && past.page.count == expected.count)
            let second = try await client.execute(uri: "/api/v1/slices/\(id)/items/1", method: .get) {
                try WireDecoder.item(from: Array($0.body.readableBytesView))
            }
            #expect(second.file.id == expected[1].file.id && second.position == 1)
            try await client.execute(uri: "/api/v1/slices/\(id)/items/\(expected.count)", method: .get) {
                #expect($0.status == .notFound)
            }
            let count = try await client.execute(uri: "/api/v1/slices/\(id)/count", method: .get) {
                try JSONDecoder().decode(CountResponse.self, from: Data(buffer: $0.body))
            }
            #expect(count.count == expected.count)
            let plan = try await client.execute(uri: "/api/v1/slices/\(id)/explain", method: .get) {
                try JSONDecoder().decode(QueryPlan.self, from: Data(buffer: $0.body))
            }
            #expect(plan.sql.contains("label_counts") && !plan.plan.isEmpty)
            #expect(plan.sql.contains("IN (SELECT file_id FROM label_counts WHERE label_id = ?)"), "a required label few files have drives the scan")
            #expect(!plan.sql.contains("person"), "values are parameters, never pasted into SQL")
        }
    }

    @Test func aBadQueryNamesItsColumnAndTheClosestNames() async throws {
        try await withSliceApp { client, _, dataset in
            let (status, body) = try await Self.create(client, dataset.id, "labels.persn > 0")
            #expect(status == .unprocessableContent, "well written, but names a label the project lacks")
            let error = try #require(body["error"] as? [String: Any])
            #expect(error["code"] as? String == "bad_query")
            let detail = try #require(error["detail"] as? [String: Any])
            #expect(detail["column"] as? Int == 8)
            #expect(detail["suggestions"] as? [String] == ["person"])
            let (syntax, syntaxBody) = try await Self.create(client, dataset.id, "labels.person >")
            #expect(syntax == .badRequest, "not written as the grammar says")
            #expect(((syntaxBody["error"] as? [String: Any])?["detail"] as? [String: Any])?["column"] as? Int == 16)
            try await client.execute(uri: "/api/v1/slices/not-a-token/count", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func writesInvalidateTheMaterialisedSlice() async throws {
        try await withSliceApp { client, store, dataset in
            let (_, slice) = try await Self.create(client, dataset.id, "labels.person >= 5")
            let id = try #require(slice["id"] as? String)
            let before = try #require(slice["count"] as? Int)
            // Give a file with one person four more: it now has five.
            let items = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            let target = try #require(items.first { $0.instances.filter { $0.label == "person" }.count == 1 })
            let person = try #require(target.instances.first?.labelID)
            for _ in 0..<4 {
                _ = try await store.addInstance(Instance(fileID: target.file.id, labelID: person, kind: .box,
                                                         bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 1, yMax: 1)))
            }
            let after = try await client.execute(uri: "/api/v1/slices/\(id)/count", method: .get) {
                try JSONDecoder().decode(CountResponse.self, from: Data(buffer: $0.body))
            }
            #expect(after.count == before + 1)
            let page = try await client.execute(uri: "/api/v1/slices/\(id)", method: .get) {
                try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any] ?? [:]
            }
            #expect(page["version"] as? Int == Int(dataset.version) + 4)

            // Append a new file with five persons: the slice grows by one, at its end.
            let newFile = try await store.performImport(projectID: dataset.projectID, datasetName: dataset.name) { writer in
                let id = try writer.insertFile(NewFile(type: .image, name: "appended.jpg", media: Media(width: 10, height: 10)))
                try writer.append(fileID: id)
                for _ in 0..<5 {
                    try writer.insertInstance(NewInstance(fileID: id, labelID: person, kind: .box,
                                                          bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 1, yMax: 1)))
                }
                return id
            }
            let appended = try await client.execute(uri: "/api/v1/slices/\(id)/items?start=0&end=100", method: .get) {
                try WireDecoder.itemPage(from: Array($0.body.readableBytesView))
            }
            #expect(appended.count == before + 2)
            #expect(appended.items.last?.file.id == newFile)
        }
    }

    @Test func theCacheIsBoundedAndReusesMaterialisations() async throws {
        let cache = SliceCache(capacity: 10)
        let calls = Counter()
        for version in 0..<5 {
            let key = SliceCache.Key(datasetID: 1, version: Int64(version), query: "q")
            _ = try await cache.positions(for: key) { await calls.increment(); return [1, 2, 3, 4] }
            _ = try await cache.positions(for: key) { await calls.increment(); return [1, 2, 3, 4] }
        }
        #expect(await calls.value == 5, "one materialisation per version")
        #expect(await cache.count == 2, "8 of 10 positions held: the older ones were evicted")
    }
}

actor Counter {
    var value = 0
    func increment() { value += 1 }
}
