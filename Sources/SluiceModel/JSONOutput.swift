/// A compact JSON writer into a byte buffer.
///
/// Used where `JSONEncoder` is too slow: writing stored columns during imports and
/// streaming items on the server. Numbers print in their shortest round-trip form,
/// integral ones without a fraction; object keys of `JSONValue` are sorted.
public struct JSONOutput: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The text written so far.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func raw(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Writes `"key":` (the key must need no escaping).
    public mutating func key(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func number(_ value: Double) {
        if value.isNaN || value.isInfinite {
            raw("null")
        } else if value.rounded() == value, abs(value) < 9.0e15 {
            integer(Int64(value))
        } else {
            raw(value.description)
        }
    }

    public mutating func integer(_ value: Int64) {
        if value < 0 {
            guard value != .min else { return raw(String(value)) }
            bytes.append(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        // Digits into a fixed buffer, then appended in order: no String on this hot path.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// Writes `"2026-11-25T05:42:19.123Z"` (with quotes).
    public mutating func timestamp(_ t: Timestamp) {
        let parts = t.civil
        func two(_ out: inout [UInt8], _ v: Int64) {
            out.append(UInt8(48 + v / 10))
            out.append(UInt8(48 + v % 10))
        }
        bytes.append(UInt8(ascii: "\""))
        if (0...9999).contains(parts.year) {
            two(&bytes, parts.year / 100)
            two(&bytes, parts.year % 100)
        } else {
            raw(String(parts.year))
        }
        bytes.append(UInt8(ascii: "-"))
        two(&bytes, parts.month)
        bytes.append(UInt8(ascii: "-"))
        two(&bytes, parts.day)
        bytes.append(UInt8(ascii: "T"))
        two(&bytes, parts.hour)
        bytes.append(UInt8(ascii: ":"))
        two(&bytes, parts.minute)
        bytes.append(UInt8(ascii: ":"))
        two(&bytes, parts.second)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(48 + parts.millisecond / 100))
        two(&bytes, parts.millisecond % 100)
        bytes.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }

    public mutating func integer(_ value: Int) { integer(Int64(value)) }

    public mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    public mutating func null() { raw("null") }

    public mutating func optional(_ value: Double?) {
        if let value { number(value) } else { null() }
    }

    public mutating func optional(_ value: Int64?) {
        if let value { integer(value) } else { null() }
    }

    public mutating func optional(_ value: Int?) {
        if let value { integer(Int64(value)) } else { null() }
    }

    public mutating func optional(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func numbers(_ values: [Double]) {
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            number(v)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(v)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o): object(o)
        }
    }

    public mutating func object(_ members: [String: JSONValue]) {
        bytes.append(UInt8(ascii: "{"))
        for (i, k) in members.keys.sorted().enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(k)
            bytes.append(UInt8(ascii: ":"))
            value(members[k]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// The geometry's present parts as an object, in the field order of the wire format.
    public mutating func geometry(_ g: Geometry) {
        var first = true
        func separator(_ out: inout JSONOutput) {
            if first { first = false } else { out.raw(UInt8(ascii: ",")) }
        }
        func points(_ out: inout JSONOutput, _ list: [Point]) {
            out.raw(UInt8(ascii: "["))
            for (i, p) in list.enumerated() {
                if i > 0 { out.raw(UInt8(ascii: ",")) }
                out.numbers([p.x, p.y])
            }
            out.raw(UInt8(ascii: "]"))
        }
        raw(UInt8(ascii: "{"))
        if let polygon = g.polygon {
            separator(&self)
            key("polygon")
            raw(UInt8(ascii: "["))
            for (i, ring) in polygon.enumerated() {
                if i > 0 { raw(UInt8(ascii: ",")) }
                numbers(ring)
            }
            raw(UInt8(ascii: "]"))
        }
        if let mask = g.mask {
            separator(&self)
            key("mask")
            raw("{\"size\":[\(mask.height),\(mask.width)],\"counts\":")
            switch mask.counts {
            case .compressed(let s): string(s)
            case .runs(let r): numbers(r.map(Double.init))
            }
            raw(UInt8(ascii: "}"))
        }
        if let keypoints = g.keypoints {
            separator(&self)
            key("keypoints")
            raw(UInt8(ascii: "["))
            for (i, k) in keypoints.enumerated() {
                if i > 0 { raw(UInt8(ascii: ",")) }
                numbers([k.x, k.y, Double(k.visibility)])
            }
            raw(UInt8(ascii: "]"))
        }
        if let list = g.points {
            separator(&self)
            key("points")
            points(&self, list)
        }
        if let list = g.line {
            separator(&self)
            key("line")
            points(&self, list)
        }
        if let e = g.ellipse {
            separator(&self)
            key("ellipse")
            raw("{\"cx\":")
            number(e.centerX)
            raw(",\"cy\":")
            number(e.centerY)
            raw(",\"rx\":")
            number(e.radiusX)
            raw(",\"ry\":")
            number(e.radiusY)
            raw(",\"angle\":")
            number(e.angle)
            raw(UInt8(ascii: "}"))
        }
        if let c = g.cuboid {
            separator(&self)
            key("cuboid")
            raw("{\"front\":")
            points(&self, c.front)
            raw(",\"back\":")
            points(&self, c.back)
            raw(UInt8(ascii: "}"))
        }
        if let span = g.span {
            separator(&self)
            key("span")
            raw("[\(span.start),\(span.end)]")
        }
        raw(UInt8(ascii: "}"))
    }
}
