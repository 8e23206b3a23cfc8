/// Type and pixel size read from the first bytes of a PNG, JPEG or GIF, without decoding it.
public struct ImageHeader: Sendable, Hashable {
    public var mimeType: String
    public var width: Int
    public var height: Int

    /// Nil when the bytes are not a recognised image or its size lies beyond them.
    public init?(bytes: [UInt8]) {
        func be16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        if bytes.count >= 24, bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            // PNG: the IHDR chunk always comes first (PNG spec §5.6).
            self.init(mimeType: "image/png", width: be32(16), height: be32(20))
            return
        }
        if bytes.count >= 10, bytes.starts(with: Array("GIF8".utf8)) {
            self.init(
                mimeType: "image/gif", width: Int(bytes[6]) | Int(bytes[7]) << 8,
                height: Int(bytes[8]) | Int(bytes[9]) << 8)
            return
        }
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        // JPEG: walk the marker segments up to the first start-of-frame (ITU T.81 §B.2).
        var i = 2
        while i + 9 < bytes.count {
            guard bytes[i] == 0xFF else { return nil }
            let marker = bytes[i + 1]
            if marker == 0xFF {
                i += 1
                continue
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {
                i += 2
                continue
            }
            let length = be16(i + 2)
            let isStartOfFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isStartOfFrame {
                self.init(mimeType: "image/jpeg", width: be16(i + 7), height: be16(i + 5))
                return
            }
            i += 2 + length
        }
        return nil
    }

    init(mimeType: String, width: Int, height: Int) {
        self.mimeType = mimeType
        self.width = width
        self.height = height
    }
}
