/// A point in pixel coordinates, written `[x, y]`.
public struct Point: Sendable, Hashable, Codable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        x = try c.decode(Double.self)
        y = try c.decode(Double.self)
        try c.expectEnd("[x, y]")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(x)
        try c.encode(y)
    }
}

/// An axis-aligned box in pixels, written `[x_min, y_min, x_max, y_max]`.
public struct BoundingBox: Sendable, Hashable, Codable {
    public var xMin: Double
    public var yMin: Double
    public var xMax: Double
    public var yMax: Double

    public init(xMin: Double, yMin: Double, xMax: Double, yMax: Double) {
        self.xMin = xMin
        self.yMin = yMin
        self.xMax = xMax
        self.yMax = yMax
    }

    /// A box from COCO's `[x, y, width, height]`.
    public init(cocoX x: Double, y: Double, width: Double, height: Double) {
        self.init(xMin: x, yMin: y, xMax: x + width, yMax: y + height)
    }

    public var width: Double { xMax - xMin }
    public var height: Double { yMax - yMin }
    public var area: Double { max(0, width) * max(0, height) }

    /// The smallest box holding every point; nil for none.
    public init?(enclosing points: some Sequence<Point>) {
        var iterator = points.makeIterator()
        guard let first = iterator.next() else { return nil }
        var box = BoundingBox(xMin: first.x, yMin: first.y, xMax: first.x, yMax: first.y)
        while let p = iterator.next() {
            box.xMin = min(box.xMin, p.x)
            box.yMin = min(box.yMin, p.y)
            box.xMax = max(box.xMax, p.x)
            box.yMax = max(box.yMax, p.y)
        }
        self = box
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        xMin = try c.decode(Double.self)
        yMin = try c.decode(Double.self)
        xMax = try c.decode(Double.self)
        yMax = try c.decode(Double.self)
        try c.expectEnd("[x_min, y_min, x_max, y_max]")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(xMin)
        try c.encode(yMin)
        try c.encode(xMax)
        try c.encode(yMax)
    }
}

extension UnkeyedDecodingContainer {
    /// Refuses members past a fixed-length array's last (`[x, y, 7]` is not a point).
    mutating func expectEnd(_ layout: String) throws {
        guard isAtEnd else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(layout), got more members"))
        }
    }
}

/// A run-length encoded mask in COCO's layout (column-major, starting with a run of zeros).
public struct RLEMask: Sendable, Hashable, Codable {
    /// Run lengths: uncompressed integers, or COCO's compressed string form.
    public enum Counts: Sendable, Hashable, Codable {
        case runs([Int])
        case compressed(String)

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .compressed(s)
            } else {
                self = .runs(try c.decode([Int].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .runs(let r): try c.encode(r)
            case .compressed(let s): try c.encode(s)
            }
        }
    }

    public var height: Int
    public var width: Int
    public var counts: Counts

    public init(height: Int, width: Int, counts: Counts) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    enum CodingKeys: String, CodingKey { case size, counts }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let size = try c.decode([Int].self, forKey: .size)
        guard size.count == 2 else {
            throw DecodingError.dataCorruptedError(
                forKey: .size, in: c, debugDescription: "expected [height, width]")
        }
        height = size[0]
        width = size[1]
        counts = try c.decode(Counts.self, forKey: .counts)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([height, width], forKey: .size)
        try c.encode(counts, forKey: .counts)
    }
}

/// One keypoint: position and COCO visibility (0 not labelled, 1 labelled but hidden, 2 visible).
public struct Keypoint: Sendable, Hashable, Codable {
    public var x: Double
    public var y: Double
    public var visibility: Int

    public init(x: Double, y: Double, visibility: Int) {
        self.x = x
        self.y = y
        self.visibility = visibility
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        x = try c.decode(Double.self)
        y = try c.decode(Double.self)
        visibility = try c.decode(Int.self)
        try c.expectEnd("[x, y, visibility]")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(x)
        try c.encode(y)
        try c.encode(visibility)
    }
}

/// An ellipse: centre, radii and rotation in degrees.
public struct Ellipse: Sendable, Hashable, Codable {
    public var centerX: Double
    public var centerY: Double
    public var radiusX: Double
    public var radiusY: Double
    public var angle: Double

    public init(centerX: Double, centerY: Double, radiusX: Double, radiusY: Double, angle: Double = 0) {
        self.centerX = centerX
        self.centerY = centerY
        self.radiusX = radiusX
        self.radiusY = radiusY
        self.angle = angle
    }

    enum CodingKeys: String, CodingKey {
        case centerX = "cx", centerY = "cy", radiusX = "rx", radiusY = "ry", angle
    }
}

/// A projected cuboid: the four corners of its front face and of its back face.
public struct Cuboid: Sendable, Hashable, Codable {
    public var front: [Point]
    public var back: [Point]

    public init(front: [Point], back: [Point]) {
        self.front = front
        self.back = back
    }
}

/// A range of a text's characters, written `[start, end]`: offsets in Unicode scalars (what
/// Python's `str` indexes, what Doccano writes), `end` exclusive, so `text[start:end]` is the span.
public struct TextSpan: Sendable, Hashable, Codable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        start = try c.decode(Int.self)
        end = try c.decode(Int.self)
        try c.expectEnd("[start, end]")
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(start)
        try c.encode(end)
    }
}

/// The shape parts of an instance. Its `kind` names the primary part, which must be present;
/// COCO objects also carry companions (a person's keypoints come with a polygon outline).
public struct Geometry: Sendable, Hashable, Codable {
    /// Rings as flat `[x0, y0, x1, y1, …]` lists, as COCO writes them.
    public var polygon: [[Double]]?
    public var mask: RLEMask?
    public var keypoints: [Keypoint]?
    public var points: [Point]?
    public var line: [Point]?
    public var ellipse: Ellipse?
    public var cuboid: Cuboid?
    public var span: TextSpan?

    public init(
        polygon: [[Double]]? = nil, mask: RLEMask? = nil, keypoints: [Keypoint]? = nil, points: [Point]? = nil,
        line: [Point]? = nil, ellipse: Ellipse? = nil, cuboid: Cuboid? = nil, span: TextSpan? = nil
    ) {
        self.polygon = polygon
        self.mask = mask
        self.keypoints = keypoints
        self.points = points
        self.line = line
        self.ellipse = ellipse
        self.cuboid = cuboid
        self.span = span
    }

    /// True when no part is set.
    public var isEmpty: Bool {
        polygon == nil && mask == nil && keypoints == nil && points == nil && line == nil && ellipse == nil
            && cuboid == nil && span == nil
    }

    /// Whether the part that `kind` names is present (boxes and global tags need no part).
    public func hasPrimaryPart(for kind: InstanceKind) -> Bool {
        switch kind {
        case .box, .global: true
        case .polygon: polygon != nil
        case .mask: mask != nil
        case .keypoints: keypoints != nil
        case .point: points != nil
        case .line: line != nil
        case .ellipse: ellipse != nil
        case .cuboid: cuboid != nil
        case .span: span != nil
        }
    }

    /// The box enclosing the primary part, for instances imported without one.
    public func bounds(for kind: InstanceKind) -> BoundingBox? {
        switch kind {
        case .box, .global, .mask, .span:
            // A mask's box needs decoding the runs; importers take it from the source's bbox.
            // A span is not in pixels.
            return nil
        case .polygon:
            return BoundingBox(enclosing: (polygon ?? []).lazy.flatMap { ring in
                stride(from: 0, to: ring.count - 1, by: 2).lazy.map { Point(x: ring[$0], y: ring[$0 + 1]) }
            })
        case .keypoints:
            return BoundingBox(enclosing: (keypoints ?? []).lazy.filter { $0.visibility > 0 }.map {
                Point(x: $0.x, y: $0.y)
            })
        case .point: return BoundingBox(enclosing: points ?? [])
        case .line: return BoundingBox(enclosing: line ?? [])
        case .cuboid: return BoundingBox(enclosing: (cuboid?.front ?? []) + (cuboid?.back ?? []))
        case .ellipse:
            guard let e = ellipse else { return nil }
            // The axis-aligned extent of a rotated ellipse.
            let t = e.angle * .pi / 180
            let c = cos(t), s = sin(t)
            let hx = (e.radiusX * e.radiusX * c * c + e.radiusY * e.radiusY * s * s).squareRoot()
            let hy = (e.radiusX * e.radiusX * s * s + e.radiusY * e.radiusY * c * c).squareRoot()
            return BoundingBox(xMin: e.centerX - hx, yMin: e.centerY - hy, xMax: e.centerX + hx, yMax: e.centerY + hy)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
