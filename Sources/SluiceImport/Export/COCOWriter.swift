import Foundation
import SluiceModel
import SluiceStore

/// The COCO document of an export, written in parts: the header with `categories`, then
/// each image, the separator, each annotation, the footer.
///
/// Ids are the source ids the COCO importer kept (category ids on labels, `coco_id` in file
/// and instance metadata) when they identify the exported rows one to one; otherwise, for that
/// kind of row, the store's own ids. Other source fields come back from metadata, captions and
/// attributes from instance attributes.
struct COCOWriter: Sendable {
    let labels: [Label]
    /// Label id → COCO category id.
    let categoryIDs: [Int64: Int64]
    let sourceIDs: SourceIDCheck
    let description: String

    init(source: ExportSource) async throws {
        let store = source.store
        labels = try await store.labels(projectID: source.dataset.projectID, at: source.version)
        let exported = Set(labels.map(\.id))
        let fromSource = try await store.labelSourceIDs(projectID: source.dataset.projectID)
            .filter { exported.contains($0.key) }
        // Category ids from the source only when every label has one and they are distinct:
        // labels of several imports may share a project.
        let distinct = Set(fromSource.values)
        if fromSource.count == labels.count, distinct.count == labels.count {
            categoryIDs = fromSource
        } else {
            categoryIDs = Dictionary(uniqueKeysWithValues: labels.map { ($0.id, $0.id) })
        }
        sourceIDs = try await store.checkSourceIDs(datasetID: source.dataset.id, at: source.version)
        description = "Sluice export of \(source.dataset.projectID)/\(source.dataset.name) at version \(source.versionNumber)"
    }

    func header() -> JSONOutput {
        var out = JSONOutput(capacity: 4096)
        out.raw("{\"info\":{\"description\":")
        out.string(description)
        out.raw("},\"categories\":[")
        for (i, label) in labels.enumerated() {
            if i > 0 { out.raw(UInt8(ascii: ",")) }
            out.raw("\n{\"id\":")
            out.integer(categoryIDs[label.id] ?? label.id)
            out.raw(",\"name\":")
            out.string(label.name)
            if let v = label.supercategory {
                out.raw(",\"supercategory\":")
                out.string(v)
            }
            if let names = label.keypointNames {
                out.raw(",\"keypoints\":")
                out.value(.array(names.map { .string($0) }))
            }
            if let edges = label.skeleton {
                out.raw(",\"skeleton\":")
                out.value(.array(edges.map { .array($0.map { .number(Double($0)) }) }))
            }
            out.raw(UInt8(ascii: "}"))
        }
        out.raw("\n],\"images\":[")
        return out
    }

    func middle() -> JSONOutput {
        var out = JSONOutput()
        out.raw("\n],\"annotations\":[")
        return out
    }

    func footer() -> JSONOutput {
        var out = JSONOutput()
        out.raw("\n]}\n")
        return out
    }

    /// The image id of a file: its `coco_id` when source ids are unique, else its store id.
    func imageID(_ file: StoredFile) throws -> Int64 {
        guard sourceIDs.filesUnique else { return file.id }
        return try Self.integer(WireDecoder.object(fromJSON: file.metadataJSON)["coco_id"]) ?? file.id
    }

    static func integer(_ value: JSONValue?) -> Int64? {
        guard case .number(let n)? = value, n.rounded() == n, abs(n) < 9.0e15 else { return nil }
        return Int64(n)
    }

    func image(_ file: StoredFile, first: Bool, into out: inout JSONOutput) throws {
        var metadata = try WireDecoder.object(fromJSON: file.metadataJSON)
        let sourceID = metadata.removeValue(forKey: "coco_id")
        out.raw(first ? "\n{\"id\":" : ",\n{\"id\":")
        out.integer(sourceIDs.filesUnique ? Self.integer(sourceID) ?? file.id : file.id)
        out.raw(",\"file_name\":")
        out.string(file.name)
        if let v = file.media.width {
            out.raw(",\"width\":")
            out.integer(v)
        }
        if let v = file.media.height {
            out.raw(",\"height\":")
            out.integer(v)
        }
        Self.members(metadata, into: &out)
        out.raw(UInt8(ascii: "}"))
    }

    func annotation(_ instance: StoredInstance, imageID: Int64, first: Bool, into out: inout JSONOutput) throws {
        var metadata = instance.metadataJSON == "{}" ? [:] : try WireDecoder.object(fromJSON: instance.metadataJSON)
        var attributes =
            instance.attributesJSON == "{}" ? [:] : try WireDecoder.object(fromJSON: instance.attributesJSON)
        let geometry = instance.geometryJSON == "{}" ? Geometry() : try WireDecoder.geometry(fromJSON: instance.geometryJSON)
        let sourceID = metadata.removeValue(forKey: "coco_id")
        out.raw(first ? "\n{\"id\":" : ",\n{\"id\":")
        out.integer(sourceIDs.instancesUnique ? Self.integer(sourceID) ?? instance.id : instance.id)
        out.raw(",\"image_id\":")
        out.integer(imageID)
        let caption = attributes.removeValue(forKey: "caption")
        if let label = instance.labelID {
            out.raw(",\"category_id\":")
            out.integer(categoryIDs[label] ?? label)
        } else if caption != nil {
            // The importer reads captions' category 0 (with no categories) as "no label".
            out.raw(",\"category_id\":0")
        }
        if let box = instance.bbox {
            out.raw(",\"bbox\":[")
            out.number(box.xMin)
            out.raw(UInt8(ascii: ","))
            out.number(box.yMin)
            out.raw(UInt8(ascii: ","))
            out.number(Self.extent(from: box.xMin, to: box.xMax))
            out.raw(UInt8(ascii: ","))
            out.number(Self.extent(from: box.yMin, to: box.yMax))
            out.raw(UInt8(ascii: "]"))
        }
        if let rings = geometry.polygon {
            out.raw(",\"segmentation\":[")
            for (i, ring) in rings.enumerated() {
                if i > 0 { out.raw(UInt8(ascii: ",")) }
                out.numbers(ring)
            }
            out.raw(UInt8(ascii: "]"))
        } else if let mask = geometry.mask {
            out.raw(",\"segmentation\":{\"size\":[")
            out.integer(mask.height)
            out.raw(UInt8(ascii: ","))
            out.integer(mask.width)
            out.raw("],\"counts\":")
            switch mask.counts {
            case .compressed(let s): out.string(s)
            case .runs(let r): out.numbers(r.map(Double.init))
            }
            out.raw(UInt8(ascii: "}"))
        } else if instance.bbox != nil {
            // COCO's "no outline" for an object; captions and image labels have no segmentation.
            out.raw(",\"segmentation\":[]")
        }
        if let v = instance.area {
            out.raw(",\"area\":")
            out.number(v)
        }
        if instance.bbox != nil {
            out.raw(instance.isCrowd ? ",\"iscrowd\":1" : ",\"iscrowd\":0")
        }
        if let keypoints = geometry.keypoints {
            out.raw(",\"keypoints\":[")
            for (i, k) in keypoints.enumerated() {
                if i > 0 { out.raw(UInt8(ascii: ",")) }
                out.number(k.x)
                out.raw(UInt8(ascii: ","))
                out.number(k.y)
                out.raw(UInt8(ascii: ","))
                out.integer(k.visibility)
            }
            out.raw(UInt8(ascii: "]"))
        }
        if let v = instance.score {
            out.raw(",\"score\":")
            out.number(v)
        }
        if let caption {
            out.raw(",\"caption\":")
            out.value(caption)
        }
        if !attributes.isEmpty {
            out.raw(",\"attributes\":")
            out.object(attributes)
        }
        Self.members(metadata, into: &out)
        out.raw(UInt8(ascii: "}"))
    }

    /// Writes `,"key":value` for each member, keys sorted.
    static func members(_ object: [String: JSONValue], into out: inout JSONOutput) {
        for key in object.keys.sorted() {
            out.raw(UInt8(ascii: ","))
            out.string(key)
            out.raw(UInt8(ascii: ":"))
            out.value(object[key]!)
        }
    }

    /// COCO's width (or height) of a box stored as corners. The importer stored
    /// `lo + w`, which rounds, so `hi - lo` can differ from the source's `w` in the last bits
    /// (106.01 + 273.15 − 106.01 = 273.15000000000003). The source's value is one of the
    /// doubles `c` with `lo + c == hi`, and decimal sources are written in few digits: the
    /// shortest such `c` is it.
    static func extent(from lo: Double, to hi: Double) -> Double {
        let w = hi - lo
        guard lo + w == hi, w.description.utf8.count > 12 else { return w }
        for digits in 1...17 {
            if let c = Double(String(format: "%.\(digits)g", w)), lo + c == hi { return c }
        }
        return w
    }
}
