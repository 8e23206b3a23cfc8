/// A label of a project (a COCO category).
public struct Label: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    /// `#rrggbb`.
    public var color: String
    public var supercategory: String?
    /// Names of the keypoints of instances with this label, in order (COCO `keypoints`).
    public var keypointNames: [String]?
    /// Pairs of 1-based keypoint indices joined by an edge (COCO `skeleton`).
    public var skeleton: [[Int]]?
    /// The value of this label in tensor `labels`: its place among every label the project has
    /// had, in id order. Deleting a label leaves its place empty, so no other index moves.
    public var index: Int?

    public init(
        id: Int64, name: String, color: String, supercategory: String? = nil,
        keypointNames: [String]? = nil, skeleton: [[Int]]? = nil, index: Int? = nil
    ) {
        self.id = id
        self.name = name
        self.color = color
        self.supercategory = supercategory
        self.keypointNames = keypointNames
        self.skeleton = skeleton
        self.index = index
    }

    enum CodingKeys: String, CodingKey {
        case id, name, color, supercategory, skeleton, index
        case keypointNames = "keypoint_names"
    }

    /// A stable colour derived from the name, for labels imported without one.
    public static func defaultColor(for name: String) -> String {
        // FNV-1a: stable across runs and platforms, unlike `hashValue`.
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        let digits = Array("0123456789abcdef")
        var out = "#"
        for shift in [16, 8, 0] {
            let v = Int((hash >> UInt32(shift)) & 0xff) / 2 + 64
            out.append(digits[v / 16])
            out.append(digits[v % 16])
        }
        return out
    }
}

/// The kind of value an attribute group holds.
public enum AttributeKind: String, Sendable, Hashable, Codable, CaseIterable {
    case select, multiSelect = "multi_select", text, number, boolean, date
}

/// A named attribute that files and instances carry values of.
public struct AttributeGroup: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var kind: AttributeKind
    /// Allowed values for `select` and `multi_select`.
    public var options: [String]

    public init(id: Int64, name: String, kind: AttributeKind, options: [String] = []) {
        self.id = id
        self.name = name
        self.kind = kind
        self.options = options
    }
}
