import SluiceModel

/// The standard tensors of one item (DESIGN.md "Tensors"), for the N instances that have a
/// label and a box, in instance id order (for a COCO import: the file's annotation order).
///
/// Ragged kinds are flat values plus offsets, so a record never pads: `polygon_xy` holds every
/// point of every ring, `polygon_ring_offsets` where each ring's points start (R + 1 entries),
/// `polygon_offsets` where each instance's rings start (N + 1 entries). Keypoints are dense,
/// [N, K, 3] with K the most keypoints any of the N has; an instance with fewer (or none) is
/// padded with visibility 0, which COCO already means as "not labelled".
public struct ItemTensors: Sendable, Hashable {
    /// [N, 4] as x_min, y_min, x_max, y_max in pixels.
    public var boxes: [Float]
    /// [N]: each instance's label as an index into the project's label list (ordered by id,
    /// so appending labels never moves an index).
    public var labels: [Int64]
    /// [N]: each instance's label id.
    public var labelIDs: [Int64]
    /// [N]: the stored area (COCO's segment area), else the box area.
    public var area: [Float]
    /// [N]: 1 for COCO crowd regions.
    public var isCrowd: [Int64]
    /// The source's image id (COCO `id`) when the file has one, else the file id: what a COCO
    /// evaluator matches detections against.
    public var imageID: Int64
    public var polygonXY: [Float]
    public var polygonRingOffsets: [Int64]
    public var polygonOffsets: [Int64]
    /// [N, K, 3] as x, y, visibility.
    public var keypoints: [Float]
    /// K.
    public var keypointsPerInstance: Int
    /// [N]: each instance's label name.
    public var labelNames: [String]
    /// [N]: each instance's frame in its video (-1 where it has none); nil, and no `frames`
    /// tensor in the record, when no instance has one (every image dataset).
    public var frames: [Int64]?
    /// [N]: each instance's track (-1 where it has none); nil when no instance has one.
    public var tracks: [Int64]?
    /// [S, 2]: a text's spans as start and end offsets in Unicode scalars (end exclusive), in
    /// instance id order; nil, and no span tensors in the record, when the item has none.
    public var spans: [Int64]?
    /// [S]: each span's label as an index into the project's label list.
    public var spanLabels: [Int64]?
    /// [S]: each span's label name (the record's metadata `span_label_names`).
    public var spanLabelNames: [String]?

    public var count: Int { labels.count }

    /// The tensors of `instances`, with `labelIndex` mapping a label id to its index in the
    /// project's label list. Instances with no label (captions) or no box (file-level tags)
    /// are left out: they are not objects a detector can be trained on.
    public init(instances: [Instance], imageID: Int64, labelIndex: [Int64: Int]) {
        let objects = instances.filter { $0.labelID != nil && $0.bbox != nil && !$0.isDeleted }
        self.imageID = imageID
        boxes = []
        boxes.reserveCapacity(objects.count * 4)
        labels = []
        labelIDs = []
        area = []
        isCrowd = []
        labelNames = []
        polygonXY = []
        polygonRingOffsets = [0]
        polygonOffsets = [0]
        keypointsPerInstance = objects.map { $0.geometry.keypoints?.count ?? 0 }.max() ?? 0
        keypoints = [Float](repeating: 0, count: objects.count * keypointsPerInstance * 3)
        for (index, instance) in objects.enumerated() {
            let box = instance.bbox!
            boxes += [Float(box.xMin), Float(box.yMin), Float(box.xMax), Float(box.yMax)]
            let labelID = instance.labelID!
            labelIDs.append(labelID)
            labels.append(Int64(labelIndex[labelID] ?? -1))
            labelNames.append(instance.label ?? "")
            area.append(Float(instance.area ?? box.area))
            isCrowd.append(instance.isCrowd ? 1 : 0)
            for ring in instance.geometry.polygon ?? [] {
                polygonXY += ring.map { Float($0) }
                polygonRingOffsets.append(Int64(polygonXY.count / 2))
            }
            polygonOffsets.append(Int64(polygonRingOffsets.count - 1))
            for (k, point) in (instance.geometry.keypoints ?? []).enumerated() {
                let at = (index * keypointsPerInstance + k) * 3
                keypoints[at] = Float(point.x)
                keypoints[at + 1] = Float(point.y)
                keypoints[at + 2] = Float(point.visibility)
            }
        }
        if objects.contains(where: { $0.frame != nil }) { frames = objects.map { Int64($0.frame ?? -1) } }
        if objects.contains(where: { $0.track != nil }) { tracks = objects.map { Int64($0.track ?? -1) } }
        let textSpans = instances.filter { $0.kind == .span && $0.labelID != nil && $0.geometry.span != nil && !$0.isDeleted }
        if !textSpans.isEmpty {
            spans = textSpans.flatMap { [Int64($0.geometry.span!.start), Int64($0.geometry.span!.end)] }
            spanLabels = textSpans.map { Int64(labelIndex[$0.labelID!] ?? -1) }
            spanLabelNames = textSpans.map { $0.label ?? "" }
        }
    }

    /// The standard keys as named tensors, in the order a record lays them out.
    public var tensors: [(name: String, tensor: Tensor)] {
        let n = count
        var optional: [(name: String, tensor: Tensor)] = []
        if let frames { optional.append(("frames", Tensor(shape: [n], int64: frames))) }
        if let tracks { optional.append(("tracks", Tensor(shape: [n], int64: tracks))) }
        if let spans, let spanLabels {
            optional.append(("spans", Tensor(shape: [spanLabels.count, 2], int64: spans)))
            optional.append(("span_labels", Tensor(shape: [spanLabels.count], int64: spanLabels)))
        }
        return optional + [
            ("boxes", Tensor(shape: [n, 4], float32: boxes)),
            ("labels", Tensor(shape: [n], int64: labels)),
            ("label_ids", Tensor(shape: [n], int64: labelIDs)),
            ("area", Tensor(shape: [n], float32: area)),
            ("iscrowd", Tensor(shape: [n], int64: isCrowd)),
            ("image_id", Tensor(shape: [1], int64: [imageID])),
            ("polygon_xy", Tensor(shape: [polygonXY.count / 2, 2], float32: polygonXY)),
            ("polygon_ring_offsets", Tensor(shape: [polygonRingOffsets.count], int64: polygonRingOffsets)),
            ("polygon_offsets", Tensor(shape: [polygonOffsets.count], int64: polygonOffsets)),
            ("keypoints", Tensor(shape: [n, keypointsPerInstance, 3], float32: keypoints)),
        ]
    }

    /// Reads the standard keys back from a record made by `record(…)` or the tensor stream.
    public init(record: TensorRecord) throws(TensorRecordError) {
        func tensor(_ name: String, _ type: TensorType) throws(TensorRecordError) -> Tensor {
            guard let tensor = record.tensors[name] else { throw .malformed("no '\(name)' tensor") }
            guard tensor.type == type else { throw .malformed("'\(name)' is \(tensor.type.rawValue), expected \(type.rawValue)") }
            return tensor
        }
        boxes = try tensor("boxes", .float32).float32s
        labels = try tensor("labels", .int64).int64s
        labelIDs = try tensor("label_ids", .int64).int64s
        area = try tensor("area", .float32).float32s
        isCrowd = try tensor("iscrowd", .int64).int64s
        imageID = try tensor("image_id", .int64).int64s.first ?? 0
        polygonXY = try tensor("polygon_xy", .float32).float32s
        polygonRingOffsets = try tensor("polygon_ring_offsets", .int64).int64s
        polygonOffsets = try tensor("polygon_offsets", .int64).int64s
        let keypointTensor = try tensor("keypoints", .float32)
        keypoints = keypointTensor.float32s
        keypointsPerInstance = keypointTensor.shape.count == 3 ? keypointTensor.shape[1] : 0
        labelNames = record.metadata["label_names"].flatMap(Self.names(fromJSON:)) ?? []
        frames = try record.tensors["frames"].map { _ throws(TensorRecordError) in try tensor("frames", .int64).int64s }
        tracks = try record.tensors["tracks"].map { _ throws(TensorRecordError) in try tensor("tracks", .int64).int64s }
        spans = try record.tensors["spans"].map { _ throws(TensorRecordError) in try tensor("spans", .int64).int64s }
        spanLabels = try record.tensors["span_labels"].map { _ throws(TensorRecordError) in try tensor("span_labels", .int64).int64s }
        spanLabelNames = record.metadata["span_label_names"].flatMap(Self.names(fromJSON:))
        guard (spans == nil) == (spanLabels == nil), (spans?.count ?? 0) == 2 * (spanLabels?.count ?? 0) else {
            throw .malformed("'spans' and 'span_labels' disagree on the number of spans")
        }
        let n = labels.count
        guard frames.map({ $0.count == n }) ?? true, tracks.map({ $0.count == n }) ?? true else {
            throw .malformed("frames or tracks disagree with the number of instances (\(n))")
        }
        guard boxes.count == n * 4, labelIDs.count == n, area.count == n, isCrowd.count == n,
            polygonOffsets.count == n + 1, keypoints.count == n * keypointsPerInstance * 3
        else { throw .malformed("the standard tensors disagree on the number of instances (\(n))") }
    }

    /// The record of an item: the standard keys, the media bytes as `image` when given, and
    /// the metadata of `metadata(…)`.
    public func record(image: [UInt8]?, metadata: [String: String]) -> TensorRecord {
        var record = TensorRecord(metadata: metadata)
        for (name, tensor) in tensors { record.tensors[name] = tensor }
        if let image { record.tensors["image"] = Tensor(type: .uint8, shape: [image.count], bytes: image) }
        return record
    }

    /// A record's bytes up to its media: the header (standard keys, then `image` of
    /// `imageBytes` bytes last) and the standard keys' data. A writer that holds the media
    /// elsewhere sends it right after these bytes, without copying it into a record.
    public func encodedPrefix(imageBytes: Int?, metadata: [String: String]) -> [UInt8] {
        let named = tensors
        var specs = named.map { (name: $0.name, type: $0.tensor.type, shape: $0.tensor.shape) }
        if let imageBytes { specs.append((name: "image", type: .uint8, shape: [imageBytes])) }
        var bytes = TensorRecord.header(for: specs, metadata: metadata)
        for (_, tensor) in named { bytes += tensor.bytes }
        return bytes
    }

    /// The header metadata of an item's record: the file id and revision, its position in the stream,
    /// name, type, size and the instances' label names (a JSON array, parallel to `labels`).
    public func metadata(file: File, position: Int) -> [String: String] {
        var metadata = [
            "file_id": String(file.id), "revision": String(file.revision), "position": String(position),
            "name": file.name, "type": file.type.rawValue, "label_names": Self.jsonArray(labelNames),
        ]
        if let spanLabelNames { metadata["span_label_names"] = Self.jsonArray(spanLabelNames) }
        if let width = file.media.width { metadata["width"] = String(width) }
        if let height = file.media.height { metadata["height"] = String(height) }
        if let mimeType = file.media.mimeType { metadata["mime_type"] = mimeType }
        if let frameCount = file.media.frameCount { metadata["frame_count"] = String(frameCount) }
        if let frameRate = file.media.frameRate { metadata["frame_rate"] = String(frameRate) }
        if let sha256 = file.media.sha256, file.type == .video { metadata["sha256"] = sha256 }
        return metadata
    }

    /// The image id a record carries for `file`: its COCO id when imported from COCO.
    public static func imageID(of file: File) -> Int64 {
        if let number = file.metadata["coco_id"]?.numberValue, let id = Int64(exactly: number) { return id }
        return file.id
    }

    static func jsonArray(_ names: [String]) -> String {
        var out = JSONOutput(capacity: 16 * names.count + 2)
        out.raw(UInt8(ascii: "["))
        for (index, name) in names.enumerated() {
            if index > 0 { out.raw(UInt8(ascii: ",")) }
            out.string(name)
        }
        out.raw(UInt8(ascii: "]"))
        return String(decoding: out.bytes, as: UTF8.self)
    }

    static func names(fromJSON text: String) -> [String]? {
        var reader = JSONReader(bytes: Array(text.utf8))
        guard case .array(let values)? = try? reader.readValue() else { return nil }
        return values.compactMap { if case .string(let name) = $0 { name } else { nil } }
    }
}
