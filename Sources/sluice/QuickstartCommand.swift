import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Sluice
import SluiceImport
import SluiceServer
import SluiceStore

struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start a server on a temporary store, import the sample, and stream it through the SDK.",
        discussion: """
            The sample is the real photographs and annotations of three public COCO keypoint sets
            (COCO val2017, CrowdPose, OCHuman): 9 images in one dataset, so dataset[7] exists.

              swift run sluice quickstart
            """)

    @Option(help: "Port for the temporary server (0 picks a free one).")
    var port: Int = 0

    @Option(help: "Directory holding the sample's COCO folders (default: the repository's Tests/Fixtures/coco).")
    var sample: String?

    @Option(help: "Keep the store in this directory instead of a temporary one.")
    var keep: String?

    /// The three sample sets: annotation file and image directory, relative to the sample root.
    static let sampleSets = [
        ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
        ("crowdpose/test_crowdpose.json", "crowdpose"),
        ("ochuman/test_ochuman.json", "ochuman"),
    ]

    func run() async throws {
        HeapTuning.keepFreedMemoryForReuse()
        let sampleRoot = sample.map(absolutePath) ?? Self.defaultSampleRoot()
        let directory = keep.map { URL(fileURLWithPath: absolutePath($0)) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("sluice-quickstart-\(UUID().uuidString)")
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }

        print("Sluice quickstart")
        print("  store: \(directory.path) (SQLite, WAL) · sample: \(sampleRoot)")
        let store = try SQLiteStore(directory: directory)
        _ = try await store.ensureProject(SluiceModel.Project(id: "coco-dataset", name: "COCO sample"))
        for (annotations, images) in Self.sampleSets {
            let path = (sampleRoot as NSString).appendingPathComponent(annotations)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("sample file not found: \(path) (pass --sample DIR)")
            }
            let summary = try await COCOImporter(imagesDirectory: (sampleRoot as NSString).appendingPathComponent(images))
                .importFile(at: path, into: store, projectID: "coco-dataset", datasetName: "Default")
            print("  imported \(annotations): \(summary.files) images, \(summary.instances) instances")
        }

        var logger = Logger(label: "sluice")
        logger.logLevel = .warning
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = SluiceAPI.buildApplication(
            store: store, configuration: ServerConfiguration(host: "127.0.0.1", port: port), logger: logger
        ) { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let services = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = portStream.makeAsyncIterator()
            guard let boundPort = await iterator.next() else { throw ValidationError("the server did not start") }
            let host = "http://127.0.0.1:\(boundPort)"
            print("  server: \(host)\n")
            do {
                try await Self.walkthrough(host: host)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            // Graceful: the server finishes what is in flight, then `run()` returns.
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// The seed example, through the Swift SDK.
    static func walkthrough(host: String) async throws {
        let project = try await Project(id: "coco-dataset", host: host)
        let dataset = try await project.datasets.get(name: "Default")
        print("Number of items in dataset: \(try await dataset.count)")
        print("8th element: \(try await dataset[7])")
        let started = ContinuousClock.now
        var firstItem: Duration?
        var count = 0
        var instances = 0
        for try await item in dataset.items(prefetch: 4) {
            if firstItem == nil { firstItem = ContinuousClock.now - started }
            count += 1
            instances += item.instances.count
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(
            String(
                format: "Streamed %d items (%d instances) in %.1f ms · %.0f items/s · first item after %.1f ms",
                count, instances, seconds * 1000, seconds > 0 ? Double(count) / seconds : 0,
                (firstItem ?? .zero).seconds * 1000))
        let crowded = try await dataset.slice("labels.person >= 3")
        print("Slice \(crowded.query): \(try await crowded.count) items; first: \(try await crowded[0])")
    }

    /// `Tests/Fixtures/coco` of the repository this binary was built from.
    static func defaultSampleRoot() -> String {
        let source = URL(fileURLWithPath: #filePath)  // …/Sources/sluice/QuickstartCommand.swift
        return source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures/coco").path
    }
}
