/// A value in a request or an import that is refused, with the path of the field at fault
/// (`instances[3].bbox`, `files[0].sha256`).
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

extension InstanceDraft {
    /// Checks the draft's geometry on its own and against its label's keypoint names, the
    /// file's pixel size (nil when the media has none) and, for spans, the text's length in
    /// Unicode scalars (nil when not known). Label existence is the store's check.
    ///
    /// - Throws: `FieldError` naming the first field at fault below `path`.
    public func validate(
        at path: String, keypointNames: [String]?, imageSize: (width: Int, height: Int)?, textLength: Int? = nil
    ) throws {
        func fail(_ field: String, _ message: String) -> FieldError {
            FieldError(path: field.isEmpty ? path : "\(path).\(field)", message: message)
        }
        func finite(_ values: [Double], _ field: String) throws {
            if values.contains(where: { !$0.isFinite }) { throw fail(field, "must hold finite numbers") }
        }
        if let bbox {
            try finite([bbox.xMin, bbox.yMin, bbox.xMax, bbox.yMax], "bbox")
            guard bbox.xMin <= bbox.xMax, bbox.yMin <= bbox.yMax else {
                throw fail("bbox", "needs x_min ≤ x_max and y_min ≤ y_max, got \([bbox.xMin, bbox.yMin, bbox.xMax, bbox.yMax])")
            }
        } else if kind == .box {
            throw fail("bbox", "a box instance needs [x_min, y_min, x_max, y_max]")
        }
        for (value, field) in [(area, "area"), (score, "score")] {
            if let value { try finite([value], field) }
        }
        if let area, area < 0 { throw fail("area", "must not be negative") }
        if let frame, frame < 0 { throw fail("frame", "must not be negative") }
        if let track, track < 0 { throw fail("track", "must not be negative") }
        guard geometry.hasPrimaryPart(for: kind) else {
            throw fail("geometry.\(Self.primaryPart[kind] ?? kind.rawValue)", "a \(kind.rawValue) instance needs it")
        }
        if kind == .span, bbox != nil { throw fail("bbox", "a span has no box: its place is geometry.span") }
        try validateGeometry(fail: fail, finite: finite, keypointNames: keypointNames, imageSize: imageSize)
        if let span = geometry.span {
            guard span.start >= 0, span.start < span.end else {
                throw fail("geometry.span", "needs 0 ≤ start < end, got [\(span.start), \(span.end)]")
            }
            if let textLength, span.end > textLength {
                throw fail("geometry.span", "ends at \(span.end), past the text's \(textLength) characters")
            }
        }
    }

    /// The geometry member each kind needs (boxes and global tags need none).
    static let primaryPart: [InstanceKind: String] = [
        .polygon: "polygon", .mask: "mask", .keypoints: "keypoints", .point: "points", .line: "line",
        .ellipse: "ellipse", .cuboid: "cuboid", .span: "span",
    ]

    private func validateGeometry(
        fail: (String, String) -> FieldError, finite: ([Double], String) throws -> Void,
        keypointNames: [String]?, imageSize: (width: Int, height: Int)?
    ) throws {
        if let rings = geometry.polygon {
            if rings.isEmpty { throw fail("geometry.polygon", "needs at least one ring") }
            for (index, ring) in rings.enumerated() {
                let field = "geometry.polygon[\(index)]"
                try finite(ring, field)
                guard ring.count % 2 == 0 else { throw fail(field, "is a flat [x0, y0, x1, y1, …] list: odd length \(ring.count)") }
                guard ring.count >= 6 else { throw fail(field, "needs at least 3 points, got \(ring.count / 2)") }
            }
        }
        if let points = geometry.points {
            if points.isEmpty { throw fail("geometry.points", "needs at least one point") }
            try finite(points.flatMap { [$0.x, $0.y] }, "geometry.points")
        }
        if let line = geometry.line {
            guard line.count >= 2 else { throw fail("geometry.line", "needs at least 2 points, got \(line.count)") }
            try finite(line.flatMap { [$0.x, $0.y] }, "geometry.line")
        }
        if let ellipse = geometry.ellipse {
            try finite([ellipse.centerX, ellipse.centerY, ellipse.radiusX, ellipse.radiusY, ellipse.angle], "geometry.ellipse")
            guard ellipse.radiusX >= 0, ellipse.radiusY >= 0 else { throw fail("geometry.ellipse", "radii must not be negative") }
        }
        if let cuboid = geometry.cuboid {
            guard cuboid.front.count == 4, cuboid.back.count == 4 else {
                throw fail("geometry.cuboid", "needs 4 front and 4 back corners")
            }
            try finite((cuboid.front + cuboid.back).flatMap { [$0.x, $0.y] }, "geometry.cuboid")
        }
        if let keypoints = geometry.keypoints {
            try finite(keypoints.flatMap { [$0.x, $0.y] }, "geometry.keypoints")
            if let index = keypoints.firstIndex(where: { !(0...2).contains($0.visibility) }) {
                throw fail("geometry.keypoints[\(index)]", "visibility is 0, 1 or 2, got \(keypoints[index].visibility)")
            }
            guard let names = keypointNames else {
                throw fail("geometry.keypoints", "the label has no keypoint names")
            }
            guard keypoints.count == names.count else {
                throw fail("geometry.keypoints", "the label names \(names.count) keypoints, got \(keypoints.count)")
            }
        }
        if let mask = geometry.mask {
            guard mask.width > 0, mask.height > 0 else { throw fail("geometry.mask.size", "must be positive") }
            if let imageSize, (mask.width, mask.height) != (imageSize.width, imageSize.height) {
                throw fail(
                    "geometry.mask.size",
                    "is [\(mask.height), \(mask.width)] but the image is [\(imageSize.height), \(imageSize.width)]")
            }
            guard let runs = mask.runLengths() else {
                throw fail("geometry.mask.counts", "is not a valid COCO RLE string")
            }
            if runs.contains(where: { $0 < 0 }) { throw fail("geometry.mask.counts", "runs must not be negative") }
            let total = runs.reduce(0, +)
            guard total == mask.width * mask.height else {
                throw fail("geometry.mask.counts", "sum to \(total), not width × height = \(mask.width * mask.height)")
            }
        }
    }
}

extension RLEMask {
    /// The run lengths, decoding COCO's compressed string form (pycocotools `rleFrString`:
    /// 5 bits per character from '0', a continuation bit, a sign bit, and runs after the
    /// second stored as differences from the run two before). Nil when the string is malformed.
    public func runLengths() -> [Int]? {
        switch counts {
        case .runs(let runs):
            return runs
        case .compressed(let text):
            var runs: [Int] = []
            let bytes = Array(text.utf8)
            var index = 0
            while index < bytes.count {
                var value = 0, shift = 0, more = true
                var last: Int = 0
                while more {
                    guard index < bytes.count, shift < 60 else { return nil }
                    let c = Int(bytes[index]) - 48
                    guard (0..<64).contains(c) else { return nil }
                    value |= (c & 0x1f) << shift
                    more = c & 0x20 != 0
                    last = c
                    index += 1
                    shift += 5
                }
                if last & 0x10 != 0 { value |= -1 << shift }
                if runs.count > 2 { value += runs[runs.count - 2] }
                runs.append(value)
            }
            return runs
        }
    }
}
