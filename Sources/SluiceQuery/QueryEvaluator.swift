import SluiceModel

/// A dataset that holds an item's file, as the `dataset.*` comparisons see it.
public struct HoldingDataset: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var tags: Set<String>

    public init(id: Int64, name: String, tags: Set<String> = []) {
        self.id = id
        self.name = name
        self.tags = tags
    }
}

/// The reference semantics of the language, over in-memory items. The SQL compiler must
/// select exactly the items this accepts (the differential test holds it to that); it is
/// also how a client can filter items it already has.
extension CheckedQuery {
    /// Whether the item matches. `datasets` are the datasets that hold its file.
    public func matches(_ item: Item, datasets: [HoldingDataset]) -> Bool {
        switch self {
        case .and(let l, let r): return l.matches(item, datasets: datasets) && r.matches(item, datasets: datasets)
        case .or(let l, let r): return l.matches(item, datasets: datasets) || r.matches(item, datasets: datasets)
        case .not(let q): return !q.matches(item, datasets: datasets)
        case .test(let subject, let predicate):
            return subject.values(of: item, datasets: datasets).contains { predicate.holds(for: $0) }
        }
    }
}

extension Subject {
    /// The values the subject has for an item; a test holds when it holds for any of them
    /// (none: a missing width, a file without that attribute, is never a match).
    func values(of item: Item, datasets: [HoldingDataset]) -> [Scalar] {
        switch self {
        case .labelCount(let id):
            return [.number(Double(item.instances.count { $0.labelID == id }))]
        case .anyLabelCount:
            return [.number(Double(item.instances.count { $0.labelID != nil }))]
        case .frameCount(let id):
            let frames = item.instances.filter { id == nil ? $0.labelID != nil : $0.labelID == id }.compactMap(\.frame)
            return [.number(Double(Set(frames).count))]
        case .trackCount(let id):
            let tracks = item.instances.filter { id == nil ? $0.labelID != nil : $0.labelID == id }.compactMap(\.track)
            return [.number(Double(Set(tracks).count))]
        case .file(let field):
            return field.value(of: item.file).map { [$0] } ?? []
        case .fileMetadata(let keys):
            var value: JSONValue? = .object(item.file.metadata)
            for key in keys {
                guard case .object(let object) = value else { return [] }
                value = object[key]
            }
            return value.flatMap(Scalar.init).map { [$0] } ?? []
        case .attribute(let name):
            return item.instances.flatMap { instance -> [Scalar] in
                switch instance.attributes[name] {
                case nil: []
                case .array(let elements)?: elements.compactMap(Scalar.init)
                case .object(let members)?: members.values.compactMap(Scalar.init)
                case let value?: Scalar(value).map { [$0] } ?? []
                }
            }
        case .datasetName:
            return datasets.map { .text($0.name) }
        case .datasetID:
            return datasets.map { .number(Double($0.id)) }
        case .datasetTag:
            return datasets.flatMap { $0.tags.map { .text($0) } }
        }
    }
}

extension Scalar {
    /// A JSON scalar; nil for null, arrays and objects (which compare with nothing).
    init?(_ value: JSONValue) {
        switch value {
        case .number(let n): self = .number(n)
        case .string(let s): self = .text(s)
        case .bool(let b): self = .bool(b)
        case .null, .array, .object: return nil
        }
    }
}

extension FileField {
    func value(of file: File) -> Scalar? {
        func number<T: BinaryInteger>(_ v: T?) -> Scalar? { v.map { .number(Double($0)) } }
        switch self {
        case .id: return number(file.id)
        case .type: return .text(file.type.rawValue)
        case .name: return .text(file.name)
        case .width: return number(file.media.width)
        case .height: return number(file.media.height)
        case .size: return number(file.media.byteSize)
        case .mimeType: return file.media.mimeType.map { .text($0) }
        case .status: return .text(file.status.rawValue)
        case .created: return number(file.createdAt.milliseconds)
        case .updated: return number(file.updatedAt.milliseconds)
        case .frameCount: return number(file.media.frameCount)
        case .sha256: return file.media.sha256.map { .text($0) }
        }
    }
}

extension Predicate {
    /// Whether `value op values` holds. Values of another type never match (as in SQL, where
    /// the dialect tests the JSON type first); text compares byte by byte, as SQLite's BINARY.
    func holds(for value: Scalar) -> Bool {
        switch op {
        case .in: return values.contains { Self.order(value, $0) == 0 }
        case .contains:
            guard case .text(let haystack) = value, case .text(let needle)? = values.first else { return false }
            return Self.bytes(Array(haystack.utf8), contain: Array(needle.utf8))
        default:
            guard let rhs = values.first, let order = Self.order(value, rhs) else { return false }
            switch op {
            case .equal: return order == 0
            case .notEqual: return order != 0
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            case .in, .contains: return false
            }
        }
    }

    /// -1, 0 or 1; nil when the two are of different types.
    static func order(_ a: Scalar, _ b: Scalar) -> Int? {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.text(let x), .text(let y)):
            let (u, v) = (Array(x.utf8), Array(y.utf8))
            for (p, q) in zip(u, v) where p != q { return p < q ? -1 : 1 }
            return u.count < v.count ? -1 : u.count > v.count ? 1 : 0
        default: return nil
        }
    }

    static func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
