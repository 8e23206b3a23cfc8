extension Item: CustomStringConvertible {
    /// `Item 7: 000000000785.jpg (image 640×425, image/jpeg, 105.2 KB), 5 instances: person ×5`.
    public var description: String {
        var size = ""
        if let w = file.media.width, let h = file.media.height { size = " \(w)×\(h)" }
        var details = "\(file.type.rawValue)\(size)"
        if let mime = file.media.mimeType { details += ", \(mime)" }
        if let bytes = file.media.byteSize {
            details += bytes >= 1024 ? ", \(Double(bytes * 10 / 1024) / 10) KB" : ", \(bytes) B"
        }
        var counts: [String: Int] = [:]
        var order: [String] = []
        for instance in instances {
            let name = instance.label ?? instance.kind.rawValue
            if counts[name] == nil { order.append(name) }
            counts[name, default: 0] += 1
        }
        let summary = order.map { "\($0) ×\(counts[$0]!)" }.joined(separator: ", ")
        let noun = instances.count == 1 ? "instance" : "instances"
        return "Item \(position): \(file.name) (\(details)), \(instances.count) \(noun)"
            + (summary.isEmpty ? "" : ": \(summary)")
    }
}
