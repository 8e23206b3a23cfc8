/// Masks as PNGs: a binary mask as an RGBA PNG, painted as Datumaro paints LabelMe masks (set
/// pixels 255,203,0 at alpha 153; others transparent black), so that Datumaro's `load_mask` and
/// `sluice import labelme` both read it; index images as palette PNGs. The deflate stream is stored blocks (RFC 1951
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
        return png(width: mask.width, height: mask.height, colorType: 6, palette: nil, scanlines: raw)
    }

    /// An 8-bit palette PNG (colour type 3) of `indices` (row by row) with `palette`'s RGB
    /// triples: Pascal VOC's SegmentationClass and SegmentationObject images.
    static func encodeIndexed(width: Int, height: Int, indices: [UInt8], palette: [UInt8]) -> [UInt8] {
        var raw: [UInt8] = []
        raw.reserveCapacity(height * (1 + width))
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw += indices[(y * width)..<((y + 1) * width)]
        }
        return png(width: width, height: height, colorType: 3, palette: palette, scanlines: raw)
    }

    /// A PNG of 8-bit samples whose filtered scanlines are `raw`, in stored deflate blocks.
    private static func png(width: Int, height: Int, colorType: UInt8, palette: [UInt8]?, scanlines raw: [UInt8]) -> [UInt8] {
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
            "IHDR", TinyPNG.bigEndian(UInt32(width)) + TinyPNG.bigEndian(UInt32(height)) + [8, colorType, 0, 0, 0])
        if let palette { png += TinyPNG.chunk("PLTE", palette) }
        png += TinyPNG.chunk("IDAT", zlib)
        png += TinyPNG.chunk("IEND", [])
        return png
    }
}
