/// Pascal VOC's fixed colour palette: the colours of indices 0–255 in `SegmentationClass/` and
/// `SegmentationObject/` PNGs (VOCdevkit's `labelcolormap.m`, Datumaro's `generate_colormap`).
/// Index i's bits are dealt out three at a time to the high bits of red, green and blue:
/// 0 black, 1 (128, 0, 0), 2 (0, 128, 0), …, 255 (224, 224, 192), VOC's void. The 256 colours
/// are distinct, so a colour maps back to its index exactly.
enum VOCPalette {
    /// VOC's void (object borders and "difficult" regions): no object's pixel.
    static let void: UInt8 = 255

    /// The colour of `index`.
    static func color(of index: UInt8) -> (red: UInt8, green: UInt8, blue: UInt8) {
        var red = 0, green = 0, blue = 0
        var bits = Int(index)
        for shift in stride(from: 7, through: 0, by: -1) {
            red |= (bits & 1) << shift
            green |= (bits >> 1 & 1) << shift
            blue |= (bits >> 2 & 1) << shift
            bits >>= 3
        }
        return (UInt8(red), UInt8(green), UInt8(blue))
    }

    /// The index whose colour this is; nil for a colour not in the palette.
    static func index(red: UInt8, green: UInt8, blue: UInt8) -> UInt8? {
        // Index bits 3j, 3j+1, 3j+2 are bit 7−j of red, green and blue (j = 0, 1, 2); every
        // lower bit is zero in a palette colour, which the round trip through `color` checks.
        var index = 0
        for j in 0..<3 {
            index |= (Int(red) >> (7 - j) & 1) << (3 * j)
            index |= (Int(green) >> (7 - j) & 1) << (3 * j + 1)
            index |= (Int(blue) >> (7 - j) & 1) << (3 * j + 2)
        }
        guard index <= 255, color(of: UInt8(index)) == (red, green, blue) else { return nil }
        return UInt8(index)
    }

    /// The palette as a PNG `PLTE` chunk's data: 256 RGB triples.
    static let plte: [UInt8] = (0...255).flatMap { index -> [UInt8] in
        let c = color(of: UInt8(index))
        return [c.red, c.green, c.blue]
    }
}
