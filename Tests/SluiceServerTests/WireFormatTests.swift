import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// The server's hand-written item JSON, the SDK's hand-written decoder and the `Codable`
/// conformances must agree on every field.
@Suite struct WireFormatTests {
    @Test(arguments: StoreEngine.available) func fastDecoderEqualsCodableOnServedPages(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let dataset = try await store.importSample()
            // Every instance kind, attributes and odd strings, on the first file.
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            for (kind, geometry) in [
                (InstanceKind.point, Geometry(points: [Point(x: 1.5, y: 2)])),
                (.line, Geometry(line: [Point(x: 0, y: 0), Point(x: 3, y: 4)])),
                (.ellipse, Geometry(ellipse: Ellipse(centerX: 5, centerY: 5, radiusX: 2, radiusY: 1, angle: 30))),
                (.cuboid, Geometry(cuboid: Cuboid(front: [Point(x: 0, y: 0)], back: [Point(x: 1, y: 1)]))),
                (.mask, Geometry(mask: RLEMask(height: 2, width: 2, counts: .runs([0, 4])))),
                (.global, Geometry()),
            ] {
                _ = try await store.addInstance(Instance(
                    fileID: file.id, labelID: nil, kind: kind, bbox: kind == .mask ? BoundingBox(xMin: 0, yMin: 0, xMax: 2, yMax: 2) : nil,
                    geometry: geometry, score: 0.25, frame: 3, track: 9,
                    attributes: ["weather": "rain \"heavy\"\n", "count": 3, "flags": [true, nil]], creator: "ann"))
            }
            try await store.importGenerated(files: 50, instancesPerFile: 3, projectID: "coco-dataset", in: directory)
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                let body = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items?start=0&end=100", method: .get) {
                    Array($0.body.readableBytesView)
                }
                let fast = try WireDecoder.itemPage(from: body)
                let codable = try JSONDecoder().decode(ItemPage.self, from: Data(body))
                #expect(fast == codable)
                #expect(fast.items.count == 59)
                #expect(fast.items[0].instances.filter { $0.labelID == nil }.count == 6, "the six added kinds")
                let stored = try await store.items(datasetID: dataset.id, range: 0..<59)
                #expect(fast.items == stored)
                let one = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/items/0", method: .get) {
                    Array($0.body.readableBytesView)
                }
                #expect(try WireDecoder.item(from: one) == stored[0])
            }
        }
    }

    @Test func fastDecoderRejectsWhatIsNotAnItem() {
        #expect(throws: WireError.missing("item.file")) { try WireDecoder.item(from: Array(#"{"position": 1}"#.utf8)) }
        #expect(throws: (any Error).self) { try WireDecoder.itemPage(from: Array(#"{"items": [1]}"#.utf8)) }
        #expect(throws: (any Error).self) { try WireDecoder.itemPage(from: Array(#"{"items": ["#.utf8)) }
        // A number past Int64 (a hostile or broken server) is an error, not a trap in the client.
        for number in ["1e300", "9223372036854775808", "-1e19", "1.5"] {
            #expect(throws: WireError.invalid("position", "not a 64-bit integer: \(Double(number)!)")) {
                try WireDecoder.item(from: Array("{\"position\": \(number)}".utf8))
            }
        }
    }

    @Test func timestampsWriteLikeTheirDescription() {
        for ms: Int64 in [0, 999, 1_795_585_339_123, -1, 253_402_300_799_999] {
            var out = JSONOutput()
            out.timestamp(Timestamp(milliseconds: ms))
            #expect(out.string == "\"\(Timestamp(milliseconds: ms))\"")
        }
        var out = JSONOutput()
        for v: Int64 in [0, 7, -7, 10, 1_234_567_890_123, .max, .min] {
            out.bytes = []
            out.integer(v)
            #expect(out.string == String(v))
        }
    }
}
