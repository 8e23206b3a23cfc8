import SluiceModel

/// What media bytes are, read from their first bytes (magic numbers), never from a name or a
/// header a client sent: an upload is stored as what it is.
public struct SniffedMedia: Sendable, Hashable {
    public var mimeType: String
    public var fileType: FileType
    public var width: Int?
    public var height: Int?

    /// The bytes this needs at most: every format below is recognised from its first 64 KiB.
    public static let headLength = 65_536

    /// Nil when the bytes are none of the types Sluice holds: images (PNG, JPEG, GIF, BMP,
    /// WebP, TIFF), videos (MP4/MOV, WebM, Matroska) and UTF-8 text.
    public init?(head bytes: [UInt8]) {
        if let image = ImageHeader(bytes: bytes) {
            self.init(mimeType: image.mimeType, fileType: .image, width: image.width, height: image.height)
            return
        }
        func le32(_ i: Int) -> Int {
            Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
        }
        if bytes.count >= 26, bytes.starts(with: Array("BM".utf8)) {
            // BITMAPINFOHEADER: a negative height means rows top-down.
            self.init(mimeType: "image/bmp", fileType: .image, width: le32(18), height: abs(Int(Int32(truncatingIfNeeded: le32(22)))))
            return
        }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            self.init(mimeType: "image/webp", fileType: .image)
            return
        }
        if bytes.starts(with: [0x49, 0x49, 0x2A, 0x00]) || bytes.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            self.init(mimeType: "image/tiff", fileType: .image)
            return
        }
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) {
            // ISO base media: MP4, M4V and QuickTime share the `ftyp` box (ISO/IEC 14496-12 §4.3).
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            self.init(mimeType: brand == "qt  " ? "video/quicktime" : "video/mp4", fileType: .video)
            return
        }
        if bytes.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML: the DocType element names WebM or Matroska within the header.
            let head = Array(bytes.prefix(64)), webm = Array("webm".utf8)
            let isWebM = head.count >= 4 && (0...(head.count - 4)).contains { Array(head[$0..<($0 + 4)]) == webm }
            self.init(mimeType: isWebM ? "video/webm" : "video/x-matroska", fileType: .video)
            return
        }
        if Self.isText(bytes) {
            self.init(mimeType: "text/plain; charset=utf-8", fileType: .text)
            return
        }
        return nil
    }

    init(mimeType: String, fileType: FileType, width: Int? = nil, height: Int? = nil) {
        self.mimeType = mimeType
        self.fileType = fileType
        self.width = width
        self.height = height
    }

    /// UTF-8 with no NUL and no control characters but whitespace. The head may end inside a
    /// character: up to 3 trailing bytes of one are allowed.
    static func isText(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        if bytes.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) { return false }
        for cut in 0...min(3, bytes.count - 1) {
            if String(validating: bytes[..<(bytes.count - cut)], as: UTF8.self) != nil { return true }
            if bytes.count < SniffedMedia.headLength { return false }
        }
        return false
    }
}
