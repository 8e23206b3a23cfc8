import Foundation
import Sluice
import SluiceStore
import SluiceTestSupport
import Testing

/// `Dataset.downloadMedia(of:to:)` and `Dataset.labels()` against a live server: the bytes
/// written are the stored ones, a cut transfer resumes where it stopped, and a pinned handle
/// names its labels as they were.
@Suite struct MediaDownloadTests {
    /// A photo made large with bytes after its end marker (JPEG readers ignore them), so that
    /// its transfer spans several fault points.
    static func largePhoto() throws -> [UInt8] {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("coco/ochuman/000817.jpg"))))
        var generator = SystemRandomNumberGenerator()
        bytes += (0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return bytes
    }

    @Test(arguments: StoreEngine.available) func aCutDownloadResumesWhereItStopped(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            try await store.importSample()
            let token = try await store.editorToken()
            let bytes = try Self.largePhoto()
            try await withLiveServer(store: store) { host in
                let writer = try await Project(id: "coco-dataset", host: host, apiKey: token)
                let media = try await writer.uploadMedia(bytes)
                let appended = try await writer.datasets.get(name: "Default").append([FileDraft(name: "large.jpg", sha256: media.sha256)])
                let file = try #require(appended.first).file
                // Fault points 0.5–1.5 MB apart on each connection: three cuts in the transfer.
                let plan = FaultPlan(seed: 21, meanBytesBetweenFaults: 1_000_000, maxDrops: 3)
                try await withFaultProxy(target: "127.0.0.1", port: Int(host.split(separator: ":").last!)!, plan: plan) { port, proxy in
                    let configuration = ClientConfiguration(
                        host: "http://127.0.0.1:\(port)", apiKey: token, retry: RetryPolicy(baseDelay: .milliseconds(5)))
                    let dataset = try await Project(id: "coco-dataset", configuration: configuration).datasets.get(name: "Default")
                    let path = directory.appendingPathComponent("downloaded.jpg").path
                    var held: [Int] = []
                    let written = try await dataset.downloadMedia(of: file, to: path) { held.append($0) }
                    #expect(written == bytes.count)
                    #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
                    #expect(proxy.stats.drops == 3, "the plan's drops all happened inside the transfer")
                    // Started again from 0, the bytes held would fall back; resumed, they only grow.
                    #expect(held == held.sorted() && held.first! > 0 && held.last == bytes.count)
                }
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aFileTheServerDoesNotHoldIsNotFound(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            try await store.importSample()
            try await withLiveServer(store: store) { host in
                let dataset = try await Project(id: "coco-dataset", host: host).datasets.get(name: "Default")
                var file = try await dataset[0].file
                file.id = 987_654
                let path = directory.appendingPathComponent("none.jpg").path
                let error = await #expect(throws: SluiceError.self) { try await dataset.downloadMedia(of: file, to: path) }
                guard case .notFound(let message)? = error else {
                    Issue.record("expected notFound, got \(String(describing: error))")
                    return
                }
                #expect(message.contains("987654"))
            }
        }
    }

    @Test(arguments: StoreEngine.available) func aPinnedHandleNamesItsLabelsAsTheyWere(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            try await store.importSample()
            let token = try await store.editorToken()
            try await withLiveServer(store: store) { host in
                let project = try await Project(id: "coco-dataset", host: host, apiKey: token)
                let dataset = try await project.datasets.get(name: "Default")
                _ = try await dataset.createSnapshot(name: "before")
                let person = try #require(try await project.labels().first { $0.name == "person" })
                _ = try await project.renameLabel(id: person.id, to: "human")
                let added = try await project.createLabel(name: "added-later")

                let now = try await dataset.labels()
                #expect(now == (try await project.labels()))
                #expect(now.contains { $0.name == "human" } && now.contains(added))
                let then = try await dataset.at("before").labels()
                #expect(then.map(\.id) == now.filter { $0.id != added.id }.map(\.id), "a label made later did not exist then")
                #expect(then.first { $0.id == person.id }?.name == "person", "the name it had then")
            }
        }
    }
}
