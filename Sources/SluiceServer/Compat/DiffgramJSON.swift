import SluiceModel
import SluiceStore

/// Diffgram's wire shapes, written from the same stored rows as Sluice's own JSON.
///
/// The diffgram SDK copies every key of a file or directory object onto a Python object
/// (`refresh_from_dict`), so no key here may be named like one of its methods or fields it
/// sets itself (`project`, `client`, `update`, `copy`, `file_id_list`).
extension JSONOutput {
    /// A dataset as a Diffgram directory (`working_dir`, `directory_list`).
    mutating func diffgramDirectory(_ dataset: Dataset) {
        raw("{\"directory_id\":")
        integer(dataset.id)
        raw(",\"id\":")
        integer(dataset.id)
        raw(",\"nickname\":")
        string(dataset.name)
        raw(",\"file_count\":")
        integer(dataset.count)
        raw(",\"created_time\":")
        timestamp(dataset.createdAt)
        raw(",\"access_type\":\"project\"}")
    }

    /// A file as Diffgram serialises it; with `instances`, its `instance_list` too.
    /// `mediaURL` is where the SDK fetches the image (signed for a private project).
    mutating func diffgramFile(_ file: StoredFile, mediaURL: String?, instances: [StoredInstance]?) throws {
        raw("{\"id\":")
        integer(file.id)
        raw(",\"type\":")
        string(file.type.rawValue)
        raw(",\"original_filename\":")
        string(file.name)
        raw(",\"created_time\":")
        timestamp(file.createdAt)
        raw(",\"ann_is_complete\":")
        bool(file.status == .complete)
        raw(",\"image\":")
        if file.type == .image || file.type == .frame {
            raw("{\"width\":")
            optional(file.media.width)
            raw(",\"height\":")
            optional(file.media.height)
            raw(",\"original_filename\":")
            string(file.name)
            raw(",\"mime_type\":")
            optional(file.media.mimeType)
            raw(",\"url_signed\":")
            optional(mediaURL)
            raw(",\"url_signed_thumb\":")
            optional(mediaURL)
            raw("}")
        } else {
            null()
        }
        if let instances {
            raw(",\"instance_list\":[")
            for (index, instance) in instances.enumerated() {
                if index > 0 { raw(UInt8(ascii: ",")) }
                try diffgramInstance(instance)
            }
            raw("]")
        }
        raw("}")
    }

    /// One instance. Every labelled instance with a box is a Diffgram `box`, whatever its
    /// richest geometry: the SDK builds `x_min_list`… from `box` instances only and
    /// `label_id_list` from every non-global one, so this keeps them parallel and equal to
    /// Sluice's `boxes` and `label_ids` (one row per instance, in instance id order). The
    /// outline and keypoints ride along as `points` and `nodes`, the full geometry as
    /// `sluice_geometry`. Instances with no label or no box (captions, file-level tags) are
    /// `global`, which the SDK leaves out of boxes and labels, as Sluice's tensors do.
    mutating func diffgramInstance(_ stored: StoredInstance) throws {
        let instance = try stored.decoded()
        raw("{\"id\":")
        integer(instance.id)
        raw(",\"type\":")
        let isObject = instance.labelID != nil && instance.bbox != nil
        string(isObject ? "box" : "global")
        raw(",\"sluice_kind\":")
        string(instance.kind.rawValue)
        if let box = instance.bbox {
            raw(",\"x_min\":")
            number(box.xMin)
            raw(",\"y_min\":")
            number(box.yMin)
            raw(",\"x_max\":")
            number(box.xMax)
            raw(",\"y_max\":")
            number(box.yMax)
            raw(",\"width\":")
            number(box.width)
            raw(",\"height\":")
            number(box.height)
        }
        raw(",\"label_file_id\":")
        optional(instance.labelID)
        raw(",\"label_file\":")
        if let labelID = instance.labelID {
            raw("{\"id\":")
            integer(labelID)
            raw(",\"label\":{\"name\":")
            string(instance.label ?? "")
            raw("}}")
        } else {
            null()
        }
        raw(",\"points\":[")
        // Diffgram's polygon is one ring of {x, y}; the first ring is the outline, the others
        // (COCO's disjoint parts) are in sluice_geometry.
        if let ring = instance.geometry.polygon?.first {
            var index = 0
            while index + 1 < ring.count {
                if index > 0 { raw(UInt8(ascii: ",")) }
                raw("{\"x\":")
                number(ring[index])
                raw(",\"y\":")
                number(ring[index + 1])
                raw("}")
                index += 2
            }
        }
        raw("],\"nodes\":[")
        for (index, point) in (instance.geometry.keypoints ?? []).enumerated() {
            if index > 0 { raw(UInt8(ascii: ",")) }
            raw("{\"id\":")
            integer(index)
            raw(",\"x\":")
            number(point.x)
            raw(",\"y\":")
            number(point.y)
            raw(",\"visibility\":")
            integer(point.visibility)
            // COCO visibility 1 is "labelled but not visible": Diffgram's occluded.
            raw(",\"occluded\":")
            bool(point.visibility == 1)
            raw("}")
        }
        raw("],\"sluice_geometry\":")
        raw(stored.geometryJSON)
        raw(",\"area\":")
        optional(instance.area)
        raw(",\"iscrowd\":")
        bool(instance.isCrowd)
        raw(",\"score\":")
        optional(instance.score)
        raw(",\"machine_made\":")
        bool(instance.score != nil)
        raw(",\"frame_number\":")
        optional(instance.frame)
        raw(",\"attribute_groups\":")
        raw(stored.attributesJSON)
        raw("}")
    }
}
