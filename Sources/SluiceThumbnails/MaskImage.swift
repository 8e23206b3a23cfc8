import CVips

/// Binary masks stored as images (LabelMe's `Masks/*.png`), decoded by libvips: a pixel is set
/// when any of its bands is not zero, which is how Datumaro reads them.
public enum MaskImage {
    /// The mask in the image at `path`: its size and one byte per pixel, row by row (0 unset,
    /// anything else set). Refuses an image of more than `maxPixels` pixels before decoding it.
    /// Blocking: call it from a thread pool or an import's own task.
    public static func read(at path: String, maxPixels: Int) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        try Thumbnailer.start()
        var width: Int32 = 0
        var height: Int32 = 0
        var output: UnsafeMutableRawPointer?
        var length = 0
        guard sluice_vips_mask(path, maxPixels, &width, &height, &output, &length) == 0, let output else {
            throw ThumbnailError.undecodable(String(cString: sluice_vips_take_error()))
        }
        defer { g_free(output) }
        guard length == Int(width) * Int(height) else {
            throw ThumbnailError.undecodable("the mask decoded to \(length) bytes, not \(width) × \(height)")
        }
        return (Int(width), Int(height), Array(UnsafeRawBufferPointer(start: output, count: length)))
    }

    /// The 8-bit samples of an index image (Pascal VOC's `SegmentationObject/*.png`): its size,
    /// its bands (1 for grey, whose values are the indices; 3 for colour, which a palette PNG
    /// decodes to, as libvips expands palettes) and the samples, row by row, bands interleaved.
    /// An alpha band is dropped. Refuses an image of more than `maxPixels` pixels, or not of
    /// 8-bit samples, before decoding it. Blocking: call it from a thread pool or an import's task.
    public static func readSamples(at path: String, maxPixels: Int) throws
        -> (width: Int, height: Int, bands: Int, samples: [UInt8])
    {
        try Thumbnailer.start()
        var width: Int32 = 0
        var height: Int32 = 0
        var bands: Int32 = 0
        var output: UnsafeMutableRawPointer?
        var length = 0
        guard sluice_vips_samples(path, maxPixels, &width, &height, &bands, &output, &length) == 0, let output else {
            throw ThumbnailError.undecodable(String(cString: sluice_vips_take_error()))
        }
        defer { g_free(output) }
        guard length == Int(width) * Int(height) * Int(bands) else {
            throw ThumbnailError.undecodable("the image decoded to \(length) bytes, not \(width) × \(height) × \(bands)")
        }
        return (Int(width), Int(height), Int(bands), Array(UnsafeRawBufferPointer(start: output, count: length)))
    }
}
