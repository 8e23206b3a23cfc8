import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTensors
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

    /// The items of a frames response, decoded with the public layout reader, with their media.
    static func frames(_ body: ByteBuffer) throws -> [(item: Item, media: [UInt8]?)] {
        var body = body
        let magic = body.readBytes(length: ItemFrame.magic.count)
        #expect(magic == ItemFrame.magic)
        let preambleLength = body.readInteger(endianness: .little, as: UInt32.self) ?? 0
        let preamble = body.readBytes(length: Int(preambleLength))
        let names = try ItemFrame.labelNames(fromPreamble: try #require(preamble))
        var items: [(Item, [UInt8]?)] = []
        while body.readableBytes > 0 {
            let length = body.readInteger(endianness: .little, as: UInt32.self) ?? 0
            let bytes = body.readBytes(length: Int(length))
            let frame = try #require(bytes)
            let (item, media) = try frame.withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: names) }
            items.append((item, media.map { Array(frame[$0]) }))
        }
        return items
    }

    /// Every field of every kind survives the binary frame as it survives the JSON: current
    /// rows, a removed position, and a pinned version whose label has since been renamed.
    @Test(arguments: StoreEngine.available) func framesCarryWhatTheJSONCarries(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let dataset = try await store.importSample()
            let file = try await store.items(datasetID: dataset.id, range: 0..<1)[0].file
            for (kind, geometry) in [
                (InstanceKind.polygon, Geometry(polygon: [[1, 1, 4, 1, 4, 5]])),
                (.point, Geometry(points: [Point(x: 1.5, y: 2)])),
                (.ellipse, Geometry(ellipse: Ellipse(centerX: 5, centerY: 5, radiusX: 2, radiusY: 1, angle: 30))),
                (.mask, Geometry(mask: RLEMask(height: 2, width: 2, counts: .runs([0, 4])))),
                (.global, Geometry()),
            ] {
                _ = try await store.addInstance(Instance(
                    fileID: file.id, labelID: nil, kind: kind,
                    bbox: kind == .mask ? BoundingBox(xMin: 0, yMin: 0, xMax: 2, yMax: 2) : nil,
                    geometry: geometry, score: 0.25, frame: 3, track: 0,
                    attributes: ["weather": "rain \"heavy\"\n", "count": 3], metadata: ["source": "ü"],
                    creator: "ann"))
            }
            let before = try await store.createSnapshot(datasetID: dataset.id, name: "before")
            let labels = try await store.labels(projectID: dataset.projectID)
            let firstNine = try await store.items(datasetID: dataset.id, range: 0..<9)
            let renamed = try #require(labels.first { label in
                firstNine.contains { $0.instances.contains { $0.labelID == label.id } }
            })
            try await store.renameLabel(id: renamed.id, to: "renamed \(renamed.name)")
            let last = try await store.items(datasetID: dataset.id, range: 8..<9)[0].file
            _ = try await store.removeFiles(datasetID: dataset.id, fileIDs: [last.id])
            // A name the stream's label table does not say travels in the frame.
            for stored in try await store.storedItems(datasetID: dataset.id, range: 0..<9) {
                let frame = FrameEncoding.framePrefix(stored, labelNames: [:], mediaBytes: nil)
                let decoded = try frame.getBytes(at: 4, length: frame.readableBytes - 4)!.withUnsafeBytes {
                    try ItemFrame.item(from: $0, labelNames: [:])
                }
                #expect(decoded.item == (try stored.decoded()))
                #expect(decoded.media == nil)
            }
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                for version in ["", "&version=\(before.version)"] {
                    let uri = "/api/v1/datasets/\(dataset.id)/stream?start=0&end=9\(version)&format="
                    let json = try await client.execute(uri: uri + "ndjson", method: .get) {
                        try StreamRoutesTests.lines($0)
                    }
                    let framed = try await client.execute(uri: uri + "frames", method: .get) { response in
                        #expect(response.headers[.contentType] == "application/vnd.sluice.frames")
                        return try Self.frames(response.body)
                    }
                    #expect(json.count == 9)
                    #expect(framed.map(\.item) == json)
                    #expect(json[0].instances.filter { $0.labelID == nil }.count == 5)
                    #expect(json.contains { $0.instances.contains { $0.label == renamed.name } } == !version.isEmpty)
                    #expect(json[8].isRemoved == version.isEmpty)
                    for (item, media) in framed where !item.isRemoved {
                        let sha = try #require(item.file.media.sha256)
                        #expect(media == Array(try Data(contentsOf: URL(fileURLWithPath: store.media.path(for: sha)))))
                    }
                    #expect(framed[8].media == nil || !version.isEmpty, "a removed position carries no media")
                }
            }
        }
    }

    /// A tensor frame's sections, read by hand from the documented layout: the header, the
    /// table and each section's bytes, by key.
    static func sections(ofFrame frame: [UInt8]) -> (flags: UInt8, count: Int, media: Int, sections: [UInt16: [UInt8]]) {
        func integer<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            frame[at..<(at + MemoryLayout<T>.size)].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        let count = Int(integer(28, UInt16.self))
        let dataStart = ItemFrame.headerSize + count * ItemFrame.sectionEntrySize
        var sections: [UInt16: [UInt8]] = [:]
        for entry in 0..<count {
            let at = ItemFrame.headerSize + entry * ItemFrame.sectionEntrySize
            let offset = Int(integer(at + 4, UInt32.self))
            #expect(offset % 8 == 0, "sections are 8-byte aligned")
            let start = dataStart + offset
            sections[integer(at, UInt16.self)] = Array(frame[start..<(start + Int(integer(at + 8, UInt32.self)))])
        }
        return (frame[30], Int(integer(24, UInt32.self)), Int(integer(32, UInt32.self)), sections)
    }

    /// `tensors=true` frames carry the bytes of the tensor records' standard keys, and
    /// `media=false` leaves the image out of either kind of frame.
    @Test(arguments: StoreEngine.available) func tensorFramesHoldWhatTensorRecordsHold(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                let uri = "/api/v1/datasets/\(dataset.id)/stream?start=0&end=9&format="
                let records = try await client.execute(uri: uri + "tensors", method: .get) { response in
                    var body = response.body
                    var records: [TensorRecord] = []
                    while let length = body.readInteger(endianness: .little, as: UInt64.self) {
                        records.append(try TensorRecord(decoding: body.readBytes(length: Int(length))!))
                    }
                    return records
                }
                for media in [true, false] {
                    let frames = try await client.execute(uri: uri + "frames&tensors=true&media=\(media)", method: .get) {
                        response in
                        var body = response.body
                        body.moveReaderIndex(forwardBy: 8)
                        let preamble = Int(body.readInteger(endianness: .little, as: UInt32.self)!)
                        body.moveReaderIndex(forwardBy: preamble)
                        var frames: [[UInt8]] = []
                        while let length = body.readInteger(endianness: .little, as: UInt32.self) {
                            frames.append(body.readBytes(length: Int(length))!)
                        }
                        return frames
                    }
                    #expect(frames.count == 9 && records.count == 9)
                    var keypoints = 0
                    for (frame, record) in zip(frames, records) {
                        let (flags, count, mediaLength, sections) = Self.sections(ofFrame: frame)
                        #expect(flags & ItemFrame.tensorFlag != 0)
                        #expect((flags & ItemFrame.mediaFlag != 0) == media)
                        #expect(mediaLength == (media ? record.tensors["image"]!.bytes.count : 0))
                        #expect(count == record.tensors["labels"]!.shape[0])
                        #expect(sections[ItemFrame.Key.instanceID.rawValue] == nil, "tensors, not instance columns")
                        for (name, tensor) in record.tensors where name != "image" {
                            let key = try #require(ItemFrame.tensorKeys[name])
                            #expect(sections[key.rawValue] == tensor.bytes, "\(name)")
                        }
                        if media { #expect(Array(frame.suffix(mediaLength)) == record.tensors["image"]!.bytes) }
                        keypoints += record.tensors["keypoints"]!.bytes.count
                    }
                    #expect(keypoints > 0, "the sample has keypoints")
                }
            }
        }
    }

    @Test func framesThatBreakTheLayoutAreRefusedNamingWhat() throws {
        var header = [UInt8](repeating: 0, count: ItemFrame.headerSize)
        header[28] = 1  // one section, but no table
        #expect(throws: ItemFrameError.self) { try header.withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: [:]) } }
        #expect(throws: ItemFrameError.self) { try [UInt8](repeating: 0, count: 12).withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: [:]) } }
        // A section that reaches past the data area.
        var frame = [UInt8](repeating: 0, count: ItemFrame.headerSize + ItemFrame.sectionEntrySize + 8)
        frame[28] = 1
        frame[36] = 8  // 8 bytes of data
        let entry = ItemFrame.headerSize
        frame[entry] = UInt8(ItemFrame.Key.fileNumbers.rawValue)
        frame[entry + 2] = ItemFrame.ElementType.int64.rawValue
        frame[entry + 8] = 64  // 64 bytes long
        let error = try #require(throws: ItemFrameError.self) {
            try frame.withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: [:]) }
        }
        #expect(error.message == "section 1 spans [0, 64) of 8 bytes of data")
        // A stranger's instance count, borne out by no section: refused before anything is
        // reserved for it.
        var counted = [UInt8](repeating: 0, count: ItemFrame.headerSize + ItemFrame.sectionEntrySize + 64)
        counted[24...27] = [0xFF, 0xFF, 0xFF, 0xFF]
        counted[28] = 1
        counted[36] = 64
        counted[entry] = UInt8(ItemFrame.Key.fileNumbers.rawValue)
        counted[entry + 2] = ItemFrame.ElementType.int64.rawValue
        counted[entry + 8] = 64
        #expect(throws: ItemFrameError("section 16 holds 0 values for 4294967295 instances")) {
            try counted.withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: [:]) }
        }
        // The right length, but not the eight file numbers.
        frame[entry + 8] = 8
        #expect(throws: ItemFrameError("no file numbers")) {
            try frame.withUnsafeBytes { try ItemFrame.item(from: $0, labelNames: [:]) }
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
