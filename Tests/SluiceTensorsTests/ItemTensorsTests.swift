import Foundation
import SluiceModel
import Testing

@testable import SluiceTensors

/// The standard tensor keys of an item, and records made by the Python `safetensors` library.
@Suite struct ItemTensorsTests {
    static func instance(
        _ id: Int64, label: Int64?, kind: InstanceKind, bbox: BoundingBox?, geometry: Geometry = Geometry(),
        area: Double? = nil, crowd: Bool = false
    ) -> Instance {
        Instance(
            id: id, fileID: 1, labelID: label, label: label.map { "label\($0)" }, kind: kind, bbox: bbox,
            geometry: geometry, area: area, isCrowd: crowd)
    }

    static let instances: [Instance] = [
        instance(
            1, label: 20, kind: .polygon, bbox: BoundingBox(xMin: 1, yMin: 2, xMax: 11, yMax: 22),
            geometry: Geometry(polygon: [[1, 2, 11, 2, 11, 22], [5, 5, 6, 6, 5, 6, 4, 4]]), area: 120.5),
        // A caption: no label, no box; and a file-level tag: a label but no box.
        instance(2, label: nil, kind: .global, bbox: nil),
        instance(3, label: 20, kind: .global, bbox: nil),
        instance(
            4, label: 30, kind: .keypoints, bbox: BoundingBox(xMin: 0, yMin: 0, xMax: 4, yMax: 3),
            geometry: Geometry(keypoints: [Keypoint(x: 1, y: 2, visibility: 2), Keypoint(x: 3, y: 1, visibility: 1)]),
            crowd: true),
        instance(5, label: 20, kind: .box, bbox: BoundingBox(xMin: 0.5, yMin: 0.25, xMax: 2.5, yMax: 1.25)),
    ]

    static let tensors = ItemTensors(instances: instances, imageID: 397133, labelIndex: [20: 0, 30: 1])

    @Test func objectsAreTheInstancesWithALabelAndABox() {
        let t = Self.tensors
        #expect(t.count == 3)
        #expect(t.labelIDs == [20, 30, 20])
        #expect(t.labels == [0, 1, 0])
        #expect(t.labelNames == ["label20", "label30", "label20"])
        #expect(t.boxes == [1, 2, 11, 22, 0, 0, 4, 3, 0.5, 0.25, 2.5, 1.25])
        // The stored area where there is one, else the box's.
        #expect(t.area == [120.5, 12, 2])
        #expect(t.isCrowd == [0, 1, 0])
        #expect(t.imageID == 397133)
    }

    @Test func polygonsAreFlatPointsWithRingAndInstanceOffsets() {
        let t = Self.tensors
        #expect(t.polygonXY == [1, 2, 11, 2, 11, 22, 5, 5, 6, 6, 5, 6, 4, 4])
        #expect(t.polygonRingOffsets == [0, 3, 7])
        #expect(t.polygonOffsets == [0, 2, 2, 2], "instance 0 has rings 0..<2, the others none")
    }

    @Test func keypointsAreDenseAndPaddedWithVisibilityZero() {
        let t = Self.tensors
        #expect(t.keypointsPerInstance == 2)
        #expect(t.keypoints == [0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 1, 1, 0, 0, 0, 0, 0, 0])
    }

    @Test func theRecordHasTheStandardKeysAndShapes() throws {
        let record = Self.tensors.record(image: [1, 2, 3], metadata: ["file_id": "1"])
        let shapes = record.tensors.mapValues(\.shape)
        #expect(
            shapes == [
                "boxes": [3, 4], "labels": [3], "label_ids": [3], "area": [3], "iscrowd": [3], "image_id": [1],
                "polygon_xy": [7, 2], "polygon_ring_offsets": [3], "polygon_offsets": [4], "keypoints": [3, 2, 3],
                "image": [3],
            ])
        #expect(record.tensors["boxes"]?.type == .float32)
        #expect(record.tensors["labels"]?.type == .int64)
        let decoded = try TensorRecord(decoding: record.encoded())
        var expected = Self.tensors
        expected.labelNames = []  // names travel in the metadata, which this record lacks
        #expect(try ItemTensors(record: decoded) == expected)
    }

    @Test func aPrefixAndTheImageBytesAreTheWholeRecord() throws {
        let image: [UInt8] = Array(repeating: 7, count: 1000)
        let file = File(
            id: 9, projectID: "p", type: .image, name: "a \"b\".jpg", media: Media(mimeType: "image/jpeg", width: 4, height: 3),
            createdAt: .now(), updatedAt: .now(), revision: 31)
        let metadata = Self.tensors.metadata(file: file, position: 5)
        #expect(metadata["file_id"] == "9" && metadata["revision"] == "31" && metadata["position"] == "5")
        #expect(metadata["label_names"] == #"["label20","label30","label20"]"#)
        #expect(metadata["width"] == "4" && metadata["height"] == "3" && metadata["name"] == "a \"b\".jpg")
        let streamed = try TensorRecord(decoding: Self.tensors.encodedPrefix(imageBytes: image.count, metadata: metadata) + image)
        #expect(streamed == Self.tensors.record(image: image, metadata: metadata))
        #expect(try ItemTensors(record: streamed) == Self.tensors)
    }

    @Test func aVideosInstancesCarryTheirFramesAndTracks() throws {
        var onFrames = Self.instances
        onFrames[0].frame = 12
        onFrames[0].track = 3
        onFrames[3].frame = 12
        let t = ItemTensors(instances: onFrames, imageID: 1, labelIndex: [20: 0, 30: 1])
        #expect(t.frames == [12, 12, -1] && t.tracks == [3, -1, -1], "-1 where an object has none")
        let record = t.record(image: nil, metadata: [:])
        #expect(record.tensors["frames"]?.shape == [3] && record.tensors["tracks"]?.type == .int64)
        #expect(try ItemTensors(record: try TensorRecord(decoding: record.encoded())).frames == [12, 12, -1])
        #expect(Self.tensors.frames == nil && Self.tensors.record(image: nil, metadata: [:]).tensors["frames"] == nil,
                "an image's record is as it was")
        let video = File(
            id: 2, projectID: "p", type: .video, name: "clip.mp4",
            media: Media(sha256: String(repeating: "a", count: 64), mimeType: "video/mp4", frameCount: 250, frameRate: 25),
            createdAt: .now(), updatedAt: .now())
        let metadata = t.metadata(file: video, position: 0)
        #expect(metadata["frame_count"] == "250" && metadata["frame_rate"] == "25.0" && metadata["sha256"]?.count == 64)
    }

    @Test func aTextsSpansAreStartEndPairsWithTheirLabels() throws {
        let spans = [
            Self.instance(10, label: 30, kind: .span, bbox: nil, geometry: Geometry(span: TextSpan(start: 8, end: 12))),
            Self.instance(11, label: 20, kind: .span, bbox: nil, geometry: Geometry(span: TextSpan(start: 0, end: 3))),
            Self.instance(12, label: 20, kind: .global, bbox: nil),
        ]
        let t = ItemTensors(instances: spans, imageID: 1, labelIndex: [20: 0, 30: 1])
        #expect(t.count == 0, "spans are not boxed objects")
        #expect(t.spans == [8, 12, 0, 3] && t.spanLabels == [1, 0] && t.spanLabelNames == ["label30", "label20"])
        let text = File(id: 3, projectID: "p", type: .text, name: "a.txt", media: Media(), createdAt: .now(), updatedAt: .now())
        let metadata = t.metadata(file: text, position: 0)
        #expect(metadata["span_label_names"] == #"["label30","label20"]"#)
        let record = try TensorRecord(decoding: t.record(image: Array("Zoë".utf8), metadata: metadata).encoded())
        #expect(record.tensors["spans"]?.shape == [2, 2] && record.tensors["span_labels"]?.shape == [2])
        #expect(try ItemTensors(record: record) == t)
        #expect(Self.tensors.record(image: nil, metadata: [:]).tensors["spans"] == nil, "an image's record is as it was")
    }

    @Test func anItemWithoutObjectsHasEmptyTensors() throws {
        let t = ItemTensors(instances: [Self.instances[1]], imageID: 1, labelIndex: [:])
        #expect(t.count == 0 && t.keypointsPerInstance == 0 && t.polygonOffsets == [0])
        let record = t.record(image: nil, metadata: [:])
        #expect(record.tensors["boxes"]?.shape == [0, 4])
        #expect(try ItemTensors(record: try TensorRecord(decoding: record.encoded())).count == 0)
    }

    @Test func theImageIDIsTheCOCOIDWhenThereIsOne() {
        var file = File(id: 9, projectID: "p", type: .image, name: "x", media: Media(), createdAt: .now(), updatedAt: .now())
        #expect(ItemTensors.imageID(of: file) == 9)
        file.metadata["coco_id"] = .number(397133)
        #expect(ItemTensors.imageID(of: file) == 397133)
    }

    @Test func readsARecordTheSafetensorsLibraryWrote() throws {
        // Written by `safetensors.numpy.save` (tests/python/test_tensor_records.py keeps it so).
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Data/python-made.safetensors")
        let record = try TensorRecord(decoding: Array(try Data(contentsOf: url)))
        #expect(record.metadata == ["file_id": "7", "position": "3", "name": "a b.jpg", "label_names": #"["cat", "dog"]"#])
        let t = try ItemTensors(record: record)
        #expect(t.boxes == [1.5, 2.25, 10, 20, 0, 0, 640, 480])
        #expect(t.labels == [0, 3] && t.labelIDs == [11, 14] && t.isCrowd == [0, 1] && t.imageID == 397133)
        #expect(t.area == [126.5, 307200])
        #expect(t.polygonXY == [1.5, 2.25, 10, 2.25, 10, 20] && t.polygonRingOffsets == [0, 3] && t.polygonOffsets == [0, 1, 1])
        #expect(t.keypoints == (0..<12).map(Float.init) && t.keypointsPerInstance == 2)
        #expect(t.labelNames == ["cat", "dog"])
        #expect(record.tensors["image"]?.bytes == [0xff, 0xd8, 0xff, 0xe0] + Array(" not really a jpeg".utf8))
    }
}
