import Foundation
import SluiceModel

/// A CVAT `<track>`: one object across the frames of a video, written as shapes at keyframes
/// (and, in CVAT's own exports, at every frame between them).
///
/// Sluice keeps one instance per frame the object is visible on, as CVAT's export does: the
/// frames between two keyframes are materialised by interpolation, a shape marked `outside`
/// ends the object's visibility until the next keyframe, and the last visible shape holds until
/// the task's stop frame. Boxes, ellipses, cuboids and single points move linearly; polygons and
/// polylines move point by point when both keyframes have as many points, and otherwise hold the
/// earlier keyframe's shape (CVAT matches such outlines along their length; its exports list
/// every frame, so importing one never needs that); a skeleton's points move each on its own
/// while placed at both keyframes; masks hold (CVAT does not interpolate them).
struct CVATTrack: Sendable {
    var id: Int
    var label: String?
    /// Sorted by frame.
    var shapes: [CVATShape]

    init(_ element: XMLTreeElement, path: String, file: String, meta: CVATMeta) throws {
        guard let text = element.attributes["id"], let id = Int(text), id >= 0 else {
            throw ImportError.invalid(
                file: file, line: element.line, path: "\(path)/@id", message: "expected a track number, got '\(element.attributes["id"] ?? "")'")
        }
        self.id = id
        label = element.attributes["label"].flatMap { $0.isEmpty ? nil : $0 }
        var counts: [String: Int] = [:]
        var shapes: [CVATShape] = []
        for child in element.children where child.name != "attribute" {
            counts[child.name, default: 0] += 1
            let shapePath = "\(path)/\(child.name)[\(counts[child.name]!)]"
            var shape = try CVATShape(
                child, path: shapePath, file: file, label: label, meta: meta, inTrack: true, imageSize: meta.originalSize)
            guard shape.kind != .global else {
                throw ImportError.invalid(file: file, line: child.line, path: shapePath, message: "a track holds shapes, not tags")
            }
            if let previous = shapes.last {
                guard previous.kind == shape.kind else {
                    throw ImportError.invalid(
                        file: file, line: child.line, path: shapePath, message: "a track's shapes must all be of one kind")
                }
                // An attribute a keyframe does not repeat keeps its earlier value (CVAT's rule).
                for (name, value) in previous.attributes where shape.attributes[name] == nil { shape.attributes[name] = value }
            }
            shapes.append(shape)
        }
        shapes.sort { ($0.frame ?? 0) < ($1.frame ?? 0) }
        for (a, b) in zip(shapes, shapes.dropFirst()) where a.frame == b.frame {
            throw ImportError.invalid(
                file: file, line: element.line, path: path, message: "two shapes of the track are on frame \(b.frame ?? 0)")
        }
        self.shapes = shapes
    }

    /// Most frames one track may span: the frames between keyframes are materialised, so a
    /// file written by a stranger (keyframes at 0 and 10^12) must not become that many rows.
    static let maxSpan = 10_000_000

    /// The shapes the object has on each frame it is visible on, in frame order. `inFrameSet`
    /// tells which frame numbers the task holds (its start, stop and step); `stopFrame` is where
    /// a track with no closing `outside` shape ends. A track spanning more than `maxSpan`
    /// frames is refused, naming `path` in `file`.
    func visibleShapes(inFrameSet: (Int) -> Bool, stopFrame: Int?, path: String = "", file: String = "") throws
        -> [CVATShape]
    {
        let first = shapes.first?.frame ?? 0
        let last = max(shapes.last?.frame ?? 0, shapes.last?.isOutside == false ? (stopFrame ?? 0) : 0)
        guard last - first <= Self.maxSpan else {
            throw ImportError.invalid(
                file: file, line: 0, path: path,
                message: "the track spans frames \(first)…\(last), more than \(Self.maxSpan) frames to materialise")
        }
        var result: [CVATShape] = []
        for (index, shape) in shapes.enumerated() {
            guard !shape.isOutside else { continue }
            result.append(shape)
            let from = shape.frame ?? 0
            let next = index + 1 < shapes.count ? shapes[index + 1] : nil
            let to = next?.frame ?? ((stopFrame ?? from) + 1)
            guard to > from + 1 else { continue }
            for frame in (from + 1)..<to where inFrameSet(frame) {
                let offset = next.map { Double(frame - from) / Double(($0.frame ?? 0) - from) } ?? 0
                var between = shape
                between.frame = frame
                between.isKeyframe = false
                if let next { between.interpolate(toward: next, offset: offset) }
                result.append(between)
            }
        }
        return result
    }
}

extension CVATShape {
    /// Moves this shape `offset` (0…1) of the way to `other`, which is of the same kind.
    mutating func interpolate(toward other: CVATShape, offset t: Double) {
        func mix(_ a: Double, _ b: Double) -> Double { a + (b - a) * t }
        func mix(_ a: Point, _ b: Point) -> Point { Point(x: mix(a.x, b.x), y: mix(a.y, b.y)) }
        func mix(_ a: [Point], _ b: [Point]) -> [Point]? { a.count == b.count ? zip(a, b).map { mix($0, $1) } : nil }
        switch kind {
        case .box:
            guard let a = bbox, let b = other.bbox else { return }
            bbox = BoundingBox(xMin: mix(a.xMin, b.xMin), yMin: mix(a.yMin, b.yMin), xMax: mix(a.xMax, b.xMax), yMax: mix(a.yMax, b.yMax))
            return
        case .ellipse:
            guard let a = geometry.ellipse, let b = other.geometry.ellipse else { return }
            geometry.ellipse = Ellipse(
                centerX: mix(a.centerX, b.centerX), centerY: mix(a.centerY, b.centerY), radiusX: mix(a.radiusX, b.radiusX),
                radiusY: mix(a.radiusY, b.radiusY), angle: mix(a.angle, b.angle))
        case .cuboid:
            guard let a = geometry.cuboid, let b = other.geometry.cuboid, let front = mix(a.front, b.front),
                let back = mix(a.back, b.back)
            else { return }
            geometry.cuboid = Cuboid(front: front, back: back)
        case .point:
            // CVAT moves a single point; a set of points holds still.
            guard let a = geometry.points, let b = other.geometry.points, a.count == 1, b.count == 1 else { return }
            geometry.points = [mix(a[0], b[0])]
        case .line:
            guard let a = geometry.line, let b = other.geometry.line, let moved = mix(a, b) else { return }
            geometry.line = moved
        case .polygon:
            guard let a = geometry.polygon?.first, let b = other.geometry.polygon?.first, a.count == b.count else { return }
            geometry.polygon = [zip(a, b).map { mix($0, $1) }]
        case .keypoints:
            // Each point moves on its own, as CVAT tracks a skeleton's points; one not placed at
            // either end holds where it is.
            guard let a = geometry.keypoints, let b = other.geometry.keypoints, a.count == b.count else { return }
            geometry.keypoints = zip(a, b).map { p, q in
                p.visibility > 0 && q.visibility > 0 ? Keypoint(x: mix(p.x, q.x), y: mix(p.y, q.y), visibility: p.visibility) : p
            }
        case .mask, .global, .span:
            return
        }
        bbox = geometry.bounds(for: kind)
    }
}
