import SluiceModel

/// Decodes an index image (`SegmentationObject/*.png`) into its size, its bands (1: grey, the
/// values are the indices; 3: RGB, what a palette PNG decodes to) and its 8-bit samples, row by
/// row, bands interleaved. SluiceImport decodes no images itself: the CLI passes libvips'
/// (`MaskImage.readSamples`).
public typealias IndexImageDecoder = @Sendable (_ path: String) throws
    -> (width: Int, height: Int, bands: Int, samples: [UInt8])

/// One image's `SegmentationObject/ID.png` as object indices, a byte a pixel row by row: 0 is
/// background, k the k-th `<object>` of the image's XML, 255 void.
struct VOCObjectMap: Equatable {
    var width: Int
    var height: Int
    var indices: [UInt8]

    init(width: Int, height: Int, indices: [UInt8]) {
        self.width = width
        self.height = height
        self.indices = indices
    }

    /// The indices of a decoded image: grey values as they are; colours (a palette PNG expanded,
    /// or an RGB PNG as Datumaro writes them) mapped back through VOC's palette. `file` names
    /// the PNG in faults.
    init(width: Int, height: Int, bands: Int, samples: [UInt8], file: String) throws {
        guard samples.count == width * height * bands, bands == 1 || bands == 3 else {
            throw ImportError.invalid(
                file: file, line: 0, path: "", message: "decoded to \(samples.count) bytes in \(bands) bands, not \(width) × \(height)")
        }
        self.width = width
        self.height = height
        if bands == 1 {
            indices = samples
            return
        }
        indices = [UInt8](repeating: 0, count: width * height)
        // Few colours in a mask: remember the last one rather than recompute per pixel.
        var last: (UInt32, UInt8) = (0, 0)
        for pixel in 0..<(width * height) {
            let r = samples[3 * pixel], g = samples[3 * pixel + 1], b = samples[3 * pixel + 2]
            let key = UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
            if key == last.0 {
                indices[pixel] = last.1
                continue
            }
            guard let index = VOCPalette.index(red: r, green: g, blue: b) else {
                throw ImportError.invalid(
                    file: file, line: 0, path: "pixel (\(pixel % width), \(pixel / width))",
                    message: "colour \(r),\(g),\(b) is not in the VOC palette, so it names no object")
            }
            last = (key, index)
            indices[pixel] = index
        }
    }

    /// Object k's mask (k = 1…objectCount) as COCO RLE and its pixel count, for every object
    /// with at least one pixel; void and background are no object's. Throws, naming `file` and
    /// the first such pixel, when an index names no object (`xml` says how many there are).
    func masks(objectCount: Int, file: String, xml: String) throws -> [Int: (mask: RLEMask, area: Int)] {
        var counts = [Int](repeating: 0, count: 256)
        for (pixel, index) in indices.enumerated() where index != 0 && index != VOCPalette.void {
            guard Int(index) <= objectCount else {
                throw ImportError.invalid(
                    file: file, line: 0, path: "pixel (\(pixel % width), \(pixel / width))",
                    message: "object index \(index), but \(xml) has \(objectCount) object\(objectCount == 1 ? "" : "s")")
            }
            counts[Int(index)] += 1
        }
        // One column-major pass for every object at once (COCO RLE runs down columns): a run
        // ends for object u where the index changes from u, and one for v where it changes to v.
        var runs = [[Int]](repeating: [], count: 256)
        var toggled = [Int](repeating: 0, count: 256)
        var previous: UInt8 = 0
        var position = 0
        for x in 0..<width {
            for y in 0..<height {
                let index = indices[y * width + x]
                if index != previous {
                    if previous != 0 {
                        runs[Int(previous)].append(position - toggled[Int(previous)])
                        toggled[Int(previous)] = position
                    }
                    if index != 0 {
                        runs[Int(index)].append(position - toggled[Int(index)])
                        toggled[Int(index)] = position
                    }
                    previous = index
                }
                position += 1
            }
        }
        var masks: [Int: (mask: RLEMask, area: Int)] = [:]
        // Indices stop at 254 (255 is void): a PNG cannot name objects beyond.
        for k in 1..<min(objectCount + 1, Int(VOCPalette.void)) where counts[k] > 0 {
            var objectRuns = runs[k]
            // An object's runs alternate unset, set, …; the last closes at the end of the image.
            objectRuns.append(position - toggled[k])
            masks[k] = (RLEMask(height: height, width: width, counts: .runs(objectRuns)), counts[k])
        }
        return masks
    }
}
