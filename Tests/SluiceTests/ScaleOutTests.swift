import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import Sluice

/// Two servers, each with its own connection pool (as two processes would have), on one
/// PostgreSQL database and one media directory: any server answers any request.
@Suite(.enabled(if: StoreEngine.available.contains(.postgres)))
struct ScaleOutTests {
    static func bytes(_ url: String) async throws -> Data {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(url)")
        return data
    }

    @Test func twoServersStreamTheSameBytesShareSlicesAndWakeEachOthersFollowers() async throws {
        try await withTemporaryPostgresURL { url, directory in
            let media = try MediaStore(root: directory.appendingPathComponent("media"))
            let a = try await PostgresStore.open(url: url, media: media, maximumConnections: 4)
            let b = try await PostgresStore.open(url: url, media: media, maximumConnections: 4)
            defer {
                a.close()
                b.close()
            }
            let stored = try await a.importSample()
            try await withLiveServer(store: a) { hostA in
                try await withLiveServer(store: b) { hostB in
                    // The same stream, byte for byte, from either server.
                    let route = "/api/v1/datasets/\(stored.id)/stream"
                    let fromA = try await Self.bytes(hostA + route), fromB = try await Self.bytes(hostB + route)
                    #expect(fromA.count > 1000 && fromA == fromB)

                    // A slice made on A is read on B: its id carries everything it needs.
                    let slice = try await Project(id: "coco-dataset", host: hostA).datasets.get(name: "Default")
                        .slice("labels.person >= 3")
                    let sliceRoute = "/api/v1/slices/\(slice.id)/stream"
                    let sliceA = try await Self.bytes(hostA + sliceRoute), sliceB = try await Self.bytes(hostB + sliceRoute)
                    #expect(!sliceA.isEmpty && sliceA == sliceB)

                    // A write through A wakes B's waiters (LISTEN/NOTIFY), and a follower on B sees it.
                    let dataset = try await Project(id: "coco-dataset", host: hostB).datasets.get(name: "Default")
                    let start = ChangeCursor(seq: try await b.changeCursor(datasetID: stored.id))
                    let mark = b.changeNotifier.mark()
                    let file = try await a.items(datasetID: stored.id, range: 3..<4)[0].file
                    _ = try await a.addInstance(
                        Instance(fileID: file.id, labelID: nil, kind: .global, bbox: nil, attributes: ["note": "via A"]))
                    // Woken by the notification, not by the timeout (which would return false).
                    #expect(await b.changeNotifier.wait(for: stored.id, after: mark, timeout: .seconds(60)))
                    for try await followed in dataset.follow(from: start, wait: .seconds(30)) {
                        #expect(followed.kind == .changed && followed.position == 3)
                        #expect(followed.item.instances.contains { $0.attributes["note"] == "via A" })
                        break
                    }
                }
            }
        }
    }
}
