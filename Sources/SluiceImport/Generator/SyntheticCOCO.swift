import Foundation
import SluiceModel

/// Writes a synthetic COCO-shaped dataset for tests and benchmarks, streaming, in bounded memory.
///
/// Labels follow a Zipf-like skew (a few frequent, many rare); instance counts per file vary
/// around the mean; boxes stay inside their image; sizes come from common camera formats.
/// The same parameters and seed always give the same bytes.
public struct SyntheticCOCO: Sendable {
    public var files: Int
    public var instancesPerFile: Int
    public var labels: Int
    public var seed: UInt64
    /// Also write a tiny PNG per file under `images/`.
    public var writeImages: Bool
    /// Pads each PNG to about this many bytes (0: no padding), for benchmarks of media streams.
    public var imageBytes: Int

    public init(
        files: Int, instancesPerFile: Int, labels: Int, seed: UInt64 = 42, writeImages: Bool = false, imageBytes: Int = 0
    ) {
        self.files = files
        self.instancesPerFile = instancesPerFile
        self.labels = max(1, labels)
        self.seed = seed
        self.writeImages = writeImages || imageBytes > 0
        self.imageBytes = imageBytes
    }

    /// What was written.
    public struct Summary: Sendable, Equatable {
        public var annotationsPath: String
        public var imagesDirectory: String?
        public var files: Int
        public var instances: Int
    }

    static let sizes: [(Int, Int)] = [(640, 480), (1280, 720), (1920, 1080), (800, 600), (320, 240), (1024, 768)]

    /// The name of label `k` (0-based), frequent ones first.
    public static func labelName(_ k: Int) -> String { "label\(k)" }

    /// Writes `directory/annotations.json` (and `directory/images/` when asked).
    public func write(to directory: String, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Summary {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let imagesDirectory = (directory as NSString).appendingPathComponent("images")
        if writeImages {
            try FileManager.default.createDirectory(atPath: imagesDirectory, withIntermediateDirectories: true)
        }
        let path = (directory as NSString).appendingPathComponent("annotations.json")
        guard let out = BufferedFileWriter(path: path) else { throw ImportError.unreadable(path: path) }
        var rng = SplitMix64(seed: seed)
        // Cumulative Zipf weights (s = 1.1) for label draws.
        var cumulative: [Double] = []
        var total = 0.0
        for k in 0..<labels {
            total += 1 / pow(Double(k + 1), 1.1)
            cumulative.append(total)
        }
        out.write("{\"info\":{\"description\":\"sluice generate\",\"seed\":\(seed)},\"categories\":[")
        for k in 0..<labels {
            if k > 0 { out.write(",") }
            out.write("{\"id\":\(k + 1),\"name\":\"\(Self.labelName(k))\",\"supercategory\":\"synthetic\"}")
        }
        out.write("],\"images\":[")
        // Image sizes are drawn from their own stream so annotations can redraw them in pass two.
        var sizeRNG = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        for i in 0..<files {
            let (w, h) = Self.sizes[Int(sizeRNG.next() % UInt64(Self.sizes.count))]
            if i > 0 { out.write(",") }
            let name = String(format: "%08d.png", i + 1)
            out.write("{\"id\":\(i + 1),\"file_name\":\"\(name)\",\"width\":\(w),\"height\":\(h)}")
            if writeImages {
                try TinyPNG.write(
                    to: (imagesDirectory as NSString).appendingPathComponent(name), seed: UInt64(i + 1),
                    paddedTo: imageBytes)
            }
            if i & 0xFFFF == 0 { progress?(i, files * 2) }
        }
        out.write("],\"annotations\":[")
        sizeRNG = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        var annotationID = 0
        for i in 0..<files {
            let (w, h) = Self.sizes[Int(sizeRNG.next() % UInt64(Self.sizes.count))]
            // Uniform on 0...2M: mean M, with empty files among them.
            let count = instancesPerFile == 0 ? 0 : Int(rng.next() % UInt64(2 * instancesPerFile + 1))
            for _ in 0..<count {
                annotationID += 1
                let u = rng.nextDouble() * total
                var lo = 0, hi = labels - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] < u { lo = mid + 1 } else { hi = mid }
                }
                let bw = (4 + rng.nextDouble() * Double(w) * 0.5).rounded()
                let bh = (4 + rng.nextDouble() * Double(h) * 0.5).rounded()
                let x = (rng.nextDouble() * (Double(w) - bw)).rounded()
                let y = (rng.nextDouble() * (Double(h) - bh)).rounded()
                if annotationID > 1 { out.write(",") }
                out.write(
                    "{\"id\":\(annotationID),\"image_id\":\(i + 1),\"category_id\":\(lo + 1),\"bbox\":[\(Int(x)),\(Int(y)),\(Int(bw)),\(Int(bh))],\"area\":\(Int(bw * bh)),\"iscrowd\":0}"
                )
            }
            if i & 0xFFFF == 0 { progress?(files + i, files * 2) }
        }
        out.write("]}\n")
        try out.close()
        progress?(files * 2, files * 2)
        return Summary(
            annotationsPath: path, imagesDirectory: writeImages ? imagesDirectory : nil, files: files,
            instances: annotationID)
    }
}


/// Appends text to a file through a 1 MiB buffer.
final class BufferedFileWriter {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init?(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { return nil }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    private func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        flush()
        try handle.close()
    }
}

/// An 8×8 single-colour PNG with stored (uncompressed) deflate blocks: valid, tiny, no zlib
/// needed. Padding goes into a private ancillary chunk (`sbPd`), which decoders skip.
enum TinyPNG {
    static func write(to path: String, seed: UInt64, paddedTo size: Int = 0) throws {
        var rng = SplitMix64(seed: seed)
        let rgb = [UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next()),
                   UInt8(truncatingIfNeeded: rng.next())]
        let side = 8
        var raw: [UInt8] = []
        for _ in 0..<side {
            raw.append(0)  // filter: none
            for _ in 0..<side { raw.append(contentsOf: rgb) }
        }
        // zlib stream (RFC 1950) holding one stored deflate block (RFC 1951 §3.2.4).
        var zlib: [UInt8] = [0x78, 0x01, 0x01]
        let n = UInt16(raw.count)
        zlib += [UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8)]
        zlib += raw
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        zlib += bigEndian((b << 16) | a)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", bigEndian(UInt32(side)) + bigEndian(UInt32(side)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", zlib)
        let padding = size - png.count - 12 - 12
        if padding > 0 {
            // Random bytes, so that nothing on the way compresses them.
            var bytes = [UInt8](repeating: 0, count: padding)
            for index in stride(from: 0, to: padding, by: 8) {
                withUnsafeBytes(of: rng.next()) { word in
                    for offset in 0..<min(8, padding - index) { bytes[index + offset] = word[offset] }
                }
            }
            png += chunk("sbPd", bytes)
        }
        png += chunk("IEND", [])
        guard FileManager.default.createFile(atPath: path, contents: Data(png)) else {
            throw ImportError.unreadable(path: path)
        }
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = (crc >> 8) ^ crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] }
        return ~crc
    }

    /// The CRC-32 of each byte value (ISO 3309, as PNG uses it).
    static let crcTable: [UInt32] = (0..<256).map { value in
        var crc = UInt32(value)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        return crc
    }
}
