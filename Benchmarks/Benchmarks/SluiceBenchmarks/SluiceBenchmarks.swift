import Benchmark
import Foundation
import SluiceImport
import SluiceModel
import NIOCore
import SluiceQuery
import SluiceServer
import SluiceStore
import SluiceTensors

/// Hot paths of the foundation: JSON tokenising, COCO import into SQLite, reading items
/// from the store, decoding a page of items on the client (ours against JSONDecoder), and
/// slice queries: parse, check and compile, and materialising a slice in the store; epoch
/// orders (shuffled positions, an elastic resume) and media records; item frames against the
/// item JSON they replace, on both sides of the stream.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 50)

    let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-benchmarks")
    let generated = try! SyntheticCOCO(files: 5_000, instancesPerFile: 7, labels: 80)
        .write(to: workDirectory.appendingPathComponent("gen").path)
    let cocoBytes = try! [UInt8](Data(contentsOf: URL(fileURLWithPath: generated.annotationsPath)))

    Benchmark("JSONReader: tokenise 5,000-file COCO (\(cocoBytes.count / 1024) KB)") { benchmark in
        for _ in benchmark.scaledIterations {
            var reader = JSONReader(bytes: cocoBytes)
            var tokens = 0
            while try reader.next() != .end { tokens += 1 }
            blackHole(tokens)
        }
    }

    Benchmark(
        "COCO import: 5,000 files, \(generated.instances) instances",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident], maxIterations: 10)
    ) { benchmark in
        let directory = workDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(directory: directory)
        _ = try await store.ensureProject(Project(id: "bench", name: "bench"))
        benchmark.startMeasurement()
        let summary = try await COCOImporter().importFile(
            at: generated.annotationsPath, into: store, projectID: "bench", datasetName: "D")
        benchmark.stopMeasurement()
        blackHole(summary)
    }

    let storeDirectory = workDirectory.appendingPathComponent("read-store")
    try? FileManager.default.removeItem(at: storeDirectory)
    let readStore = try! SQLiteStore(directory: storeDirectory)

    Benchmark("Store: read 1,000 items (files + instances)") { benchmark in
        if try await readStore.dataset(projectID: "bench", name: "D") == nil {
            _ = try await readStore.ensureProject(Project(id: "bench", name: "bench"))
            _ = try await COCOImporter().importFile(
                at: generated.annotationsPath, into: readStore, projectID: "bench", datasetName: "D")
        }
        let dataset = try await readStore.dataset(projectID: "bench", name: "D")!
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let start = (i * 1000) % 4000
            blackHole(try await readStore.storedItems(datasetID: dataset.id, range: start..<(start + 1000)))
        }
    }

    // The stream's two encodings of the same 1,000 stored items: the server writes them, the
    // client reads them back into items.
    /// What `read` takes from a throwaway store of the generated COCO file, computed before
    /// the benchmarks run (their closures are synchronous to set up).
    func fromImportedStore<T>(_ read: @escaping @Sendable (SQLiteStore, Int64) async throws -> T) -> T {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        Task {
            let directory = workDirectory.appendingPathComponent("store-\(UUID().uuidString)")
            let store = try! SQLiteStore(directory: directory)
            _ = try! await store.ensureProject(Project(id: "bench", name: "bench"))
            let summary = try! await COCOImporter().importFile(
                at: generated.annotationsPath, into: store, projectID: "bench", datasetName: "D")
            result = try! await read(store, summary.datasetID)
            try? FileManager.default.removeItem(at: directory)
            semaphore.signal()
        }
        semaphore.wait()
        return result!
    }

    let streamItems = fromImportedStore { store, datasetID in
        try await store.storedItems(datasetID: datasetID, range: 0..<1000)
    }
    let streamLabels = Dictionary(
        streamItems.flatMap(\.instances).compactMap { i in i.labelID.map { ($0, i.label ?? "") } },
        uniquingKeysWith: { first, _ in first })

    Benchmark("Stream encode: 1,000 items as item frames (server)") { benchmark in
        for _ in benchmark.scaledIterations {
            var buffer = ByteBuffer()
            for item in streamItems {
                FrameEncoding.writeFramePrefix(item, labelNames: streamLabels, mediaBytes: nil, into: &buffer)
            }
            blackHole(buffer)
        }
    }

    Benchmark("Stream encode: 1,000 items as NDJSON (server, before frames)") { benchmark in
        for _ in benchmark.scaledIterations {
            var out = JSONOutput(capacity: 1000 * 2048)
            for item in streamItems {
                out.item(item)
                out.raw(UInt8(ascii: "\n"))
            }
            blackHole(out.bytes)
        }
    }

    let frameBytes: [[UInt8]] = streamItems.map { item in
        let frame = FrameEncoding.framePrefix(item, labelNames: streamLabels, mediaBytes: nil)
        return Array(frame.readableBytesView.dropFirst(4))
    }
    let jsonLines: [[UInt8]] = streamItems.map { item in
        var out = JSONOutput()
        out.item(item)
        return out.bytes
    }

    Benchmark("Stream decode: 1,000 item frames (client)") { benchmark in
        for _ in benchmark.scaledIterations {
            for frame in frameBytes {
                blackHole(try frame.withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: streamLabels) })
            }
        }
    }

    Benchmark("Stream decode: 1,000 NDJSON lines (client, before frames)") { benchmark in
        for _ in benchmark.scaledIterations {
            for line in jsonLines { blackHole(try WireDecoder.item(from: line)) }
        }
    }

    // A page as the server sends it, encoded through Codable (same bytes as the wire format).
    let page: [UInt8] = fromImportedStore { store, datasetID in
        let items = try await store.items(datasetID: datasetID, range: 0..<1000)
        return [UInt8](try JSONEncoder().encode(ItemPage(datasetID: 1, start: 0, end: 1000, count: 5000, items: items)))
    }

    Benchmark("Client decode: page of 1,000 items, WireDecoder") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try WireDecoder.itemPage(from: page))
        }
    }

    Benchmark("Client decode: page of 1,000 items, JSONDecoder (baseline)") { benchmark in
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations {
            blackHole(try decoder.decode(ItemPage.self, from: Data(page)))
        }
    }

    let broadQuery = "labels.label0 > 2 and labels.label1 = 0 and file.width >= 640 or attribute.weather = \"rain\""
    let querySchema = QuerySchema(
        labels: (0..<80).map { Label(id: Int64($0 + 1), name: "label\($0)", color: "#000000") },
        attributeGroups: [AttributeGroup(id: 1, name: "weather", kind: .select, options: ["rain", "sun"])])

    Benchmark("Query: parse, check and compile a four-condition query") { benchmark in
        for _ in benchmark.scaledIterations {
            let checked = try QueryParser.parse(broadQuery).checked(against: querySchema)
            blackHole(checked.sql(dialect: SQLiteDialect()))
        }
    }

    Benchmark("Slice: materialise labels.label79 > 0 and a broad conjunction over 5,000 files") { benchmark in
        if try await readStore.dataset(projectID: "bench", name: "D") == nil {
            _ = try await readStore.ensureProject(Project(id: "bench", name: "bench"))
            _ = try await COCOImporter().importFile(
                at: generated.annotationsPath, into: readStore, projectID: "bench", datasetName: "D")
        }
        let dataset = try await readStore.dataset(projectID: "bench", name: "D")!
        let schema = QuerySchema(labels: try await readStore.labels(projectID: "bench"), attributeGroups: [])
        let rare = try QueryParser.parse("labels.label79 > 0").checked(against: schema)
        let broad = try QueryParser.parse("labels.label0 > 2 and labels.label1 = 0 and file.width >= 640").checked(against: schema)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await readStore.matchingPositions(datasetID: dataset.id, query: rare))
            blackHole(try await readStore.matchingPositions(datasetID: dataset.id, query: broad))
        }
    }

    Benchmark("Epoch order: 1,000,000 shuffled positions of one rank of 4 (block size 0 and 64)") { benchmark in
        let full = try StreamOrder(count: 4_000_000, shuffle: Shuffle(seed: 1), shard: Shard(rank: 1, worldSize: 4))
        let blocks = try StreamOrder(
            count: 4_000_000, shuffle: Shuffle(seed: 1, blockSize: 64), shard: Shard(rank: 1, worldSize: 4))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var sum = 0
            for index in 0..<full.length { sum &+= full.position(at: index) &+ blocks.position(at: index) }
            blackHole(sum)
        }
    }

    Benchmark("Epoch order: resume 3 ranks after 4 stopped unevenly (1,000,000 positions)") { benchmark in
        let history = [ConsumedRun(worldSize: 4, counts: [120_000, 90_000, 131_000, 5_000])]
        for _ in benchmark.scaledIterations {
            let order = try StreamOrder(
                count: 1_000_000, shuffle: Shuffle(seed: 2), shard: Shard(rank: 0, worldSize: 3), history: history)
            blackHole(order.positions(0..<1000))
        }
    }

    let image = [UInt8](repeating: 7, count: 100_000)
    let itemJSON = String(repeating: "{\"position\":1,\"file\":{}}", count: 60)
    Benchmark("Media record: encode and decode 1,000 records of 100 KB") { benchmark in
        for _ in benchmark.scaledIterations {
            for _ in 0..<1000 {
                let bytes = TensorRecord(
                    tensors: [
                        "image": Tensor(type: .uint8, shape: [image.count], bytes: image),
                        "item": Tensor(type: .uint8, shape: [itemJSON.utf8.count], bytes: Array(itemJSON.utf8)),
                    ],
                    metadata: ["file_id": "1"]
                ).encoded()
                blackHole(try TensorRecord(decoding: bytes))
            }
        }
    }
}
