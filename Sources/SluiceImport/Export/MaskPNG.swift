/// A binary mask as an RGBA PNG, painted as Datumaro paints LabelMe masks (set pixels
/// 255,203,0 at alpha 153; others transparent black), so that Datumaro's `load_mask` and
/// `sluice import labelme` both read it. The deflate stream is stored blocks (RFC 1951
/// §3.2.4): valid for every decoder, no zlib needed; masks are a small part of an export.
enum MaskPNG {
    static func encode(_ mask: BinaryMask) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(mask.height * (1 + mask.width * 4))
        for y in 0..<mask.height {
            raw.append(0)  // filter: none
            for x in 0..<mask.width {
                raw += mask.pixels[y * mask.width + x] != 0 ? [255, 203, 0, 153] : [0, 0, 0, 0]
            }
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65_535, raw.count - offset)
            let final: UInt8 = offset + count == raw.count ? 1 : 0
            let n = UInt16(count)
            zlib += [final, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8(~n >> 8)]
            zlib += raw[offset..<(offset + count)]
            offset += count
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        zlib += TinyPNG.bigEndian((b << 16) | a)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += TinyPNG.chunk(
            "IHDR", TinyPNG.bigEndian(UInt32(mask.width)) + TinyPNG.bigEndian(UInt32(mask.height)) + [8, 6, 0, 0, 0])
        png += TinyPNG.chunk("IDAT", zlib)
        png += TinyPNG.chunk("IEND", [])
        return png
    }
}
