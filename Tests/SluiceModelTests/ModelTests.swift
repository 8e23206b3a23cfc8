import Foundation
import SluiceModel
import Testing

@Suite struct TimestampTests {
    @Test func roundTripsThroughISO8601() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let t = Timestamp(milliseconds: Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator))
            #expect(Timestamp(iso8601: t.description) == t, "\(t)")
        }
    }

    @Test func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for ms: Int64 in [0, 1, 951_782_400_000, 1_764_048_139_123, 4_102_444_800_999] {
            let t = Timestamp(milliseconds: ms)
            #expect(formatter.date(from: t.description) == t.date)
        }
        #expect(Timestamp(iso8601: "2026-11-25T05:42:19Z")?.milliseconds == 1_795_585_339_000)
        #expect(Timestamp(iso8601: "2026-11-25 05:42:19Z") == nil)
        #expect(Timestamp(iso8601: "2026-13-25T05:42:19Z") == nil)
    }
}

@Suite struct JSONOutputTests {
    @Test func writesJSONThatFoundationReadsBack() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ newline \n tab \t control \u{01} unicode é 😀",
            "numbers": [0, -1, 0.1, 106.01, 1e-7, 123456789012, 1.5e300],
            "nested": ["a": nil, "b": true, "c": [false]],
        ]
        var out = JSONOutput()
        out.value(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(out.bytes)) == value)
    }

    @Test func integralNumbersHaveNoFraction() {
        var out = JSONOutput()
        out.numbers([250, 112.0, -3, 0.5])
        #expect(out.string == "[250,112,-3,0.5]")
    }

    @Test func geometryMatchesItsCodableForm() throws {
        let geometry = Geometry(
            polygon: [[1, 2, 3, 4, 5, 6.5]], mask: RLEMask(height: 2, width: 3, counts: .compressed("a\\b")),
            keypoints: [Keypoint(x: 1, y: 2, visibility: 2)], points: [Point(x: 1, y: 1)],
            line: [Point(x: 0, y: 0), Point(x: 1, y: 1)], ellipse: Ellipse(centerX: 1, centerY: 2, radiusX: 3, radiusY: 4, angle: 5),
            cuboid: Cuboid(front: [Point(x: 0, y: 0)], back: [Point(x: 1, y: 1)]), span: TextSpan(start: 3, end: 9))
        var out = JSONOutput()
        out.geometry(geometry)
        #expect(out.string.contains(#""span":[3,9]"#))
        #expect(try WireDecoder.geometry(fromJSON: out.string) == geometry)
        #expect(try JSONDecoder().decode(Geometry.self, from: Data(out.bytes)) == geometry)
    }
}

@Suite struct GeometryTests {
    @Test func cocoBoxesConvertToCorners() {
        let box = BoundingBox(cocoX: 10, y: 20, width: 30, height: 40)
        #expect(box == BoundingBox(xMin: 10, yMin: 20, xMax: 40, yMax: 60))
        #expect(box.area == 1200)
    }

    @Test func boundsOfEachKind() {
        let polygon = Geometry(polygon: [[1, 5, 3, 2, 9, 4]])
        #expect(polygon.bounds(for: .polygon) == BoundingBox(xMin: 1, yMin: 2, xMax: 9, yMax: 5))
        let keypoints = Geometry(keypoints: [Keypoint(x: 0, y: 0, visibility: 0), Keypoint(x: 4, y: 6, visibility: 2),
                                              Keypoint(x: 8, y: 3, visibility: 1)])
        #expect(keypoints.bounds(for: .keypoints) == BoundingBox(xMin: 4, yMin: 3, xMax: 8, yMax: 6), "unlabelled points are ignored")
        #expect(Geometry().bounds(for: .global) == nil)
        #expect(Geometry(line: [Point(x: 2, y: 2)]).bounds(for: .line) == BoundingBox(xMin: 2, yMin: 2, xMax: 2, yMax: 2))
    }

    @Test func itemDescriptionSummarisesLabels() {
        let file = File(id: 1, projectID: "p", type: .image, name: "a.jpg",
                        media: Media(mimeType: "image/jpeg", byteSize: 2048, width: 640, height: 480),
                        createdAt: Timestamp(milliseconds: 0), updatedAt: Timestamp(milliseconds: 0))
        let instances = [
            Instance(fileID: 1, labelID: 1, label: "cat", kind: .box, bbox: nil),
            Instance(fileID: 1, labelID: 1, label: "cat", kind: .box, bbox: nil),
            Instance(fileID: 1, labelID: 2, label: "dog", kind: .box, bbox: nil),
        ]
        #expect(Item(position: 7, file: file, instances: instances).description
                == "Item 7: a.jpg (image 640×480, image/jpeg, 2.0 KB), 3 instances: cat ×2, dog ×1")
    }
}
