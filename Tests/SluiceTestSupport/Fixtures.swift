import Foundation

/// Paths of the fixture files copied from `../shared/fixtures` (never edited; variants are
/// built in temporary directories).
public enum Fixtures {
    /// `Tests/Fixtures`.
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// A path below `Tests/Fixtures`.
    public static func path(_ relative: String) -> String {
        (root as NSString).appendingPathComponent(relative)
    }

    /// A COCO fixture: the annotation file and the directory its `file_name`s are relative to.
    public struct COCOSet: Sendable, CustomStringConvertible {
        public var annotations: String
        public var images: String
        public var description: String { annotations }

        public var annotationsPath: String { Fixtures.path("coco/\(annotations)") }
        public var imagesPath: String { Fixtures.path("coco/\(images)") }
    }

    /// Every COCO dataset fixture (the CrowdPose results list is not a dataset and is tested apart).
    public static let cocoSets: [COCOSet] = [
        COCOSet(annotations: "val2017-persons/person_keypoints_val2017.json", images: "val2017-persons/images"),
        COCOSet(annotations: "crowdpose/test_crowdpose.json", images: "crowdpose"),
        COCOSet(annotations: "ochuman/test_ochuman.json", images: "ochuman"),
        COCOSet(annotations: "datumaro-instances/annotations/instances_train.json", images: "datumaro-instances/images/train"),
        COCOSet(annotations: "datumaro-instances/annotations/instances_val.json", images: "datumaro-instances/images/val"),
        COCOSet(annotations: "datumaro-keypoints/annotations/person_keypoints_train.json", images: "datumaro-keypoints/images/train"),
        COCOSet(annotations: "datumaro-keypoints/annotations/person_keypoints_val.json", images: "datumaro-keypoints/images/val"),
        COCOSet(annotations: "datumaro-labels/annotations/labels_train.json", images: "datumaro-labels/images/train"),
        COCOSet(annotations: "datumaro-labels/annotations/labels_val.json", images: "datumaro-labels/images/val"),
        COCOSet(annotations: "datumaro-captions/annotations/captions_train.json", images: "datumaro-captions/images/train"),
        COCOSet(annotations: "datumaro-captions/annotations/captions_val.json", images: "datumaro-captions/images/val"),
        COCOSet(annotations: "datumaro-roboflow/train/_annotations.coco.json", images: "datumaro-roboflow/train"),
        COCOSet(annotations: "datumaro-roboflow/val/_annotations.coco.json", images: "datumaro-roboflow/val"),
    ]

    /// The quickstart sample: 9 real photographs in three sets.
    public static let sampleSets: [COCOSet] = Array(cocoSets.prefix(3))
}
