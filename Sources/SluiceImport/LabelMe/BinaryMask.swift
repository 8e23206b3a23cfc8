import SluiceModel

/// Decodes a mask image (`Masks/*.png`) into its size and one byte per pixel, row by row, 0 for
/// unset. SluiceImport decodes no images itself: the CLI passes libvips' (`MaskImage.read`).
public typealias MaskDecoder = @Sendable (_ path: String) throws -> (width: Int, height: Int, pixels: [UInt8])

/// A binary mask, one byte per pixel row by row, and its conversions to and from COCO RLE.
struct BinaryMask: Equatable {
    var width: Int
    var height: Int
    /// Row-major; not zero is set.
    var pixels: [UInt8]

    /// Largest mask decoded: 16k × 16k pixels, one byte each.
    static let maxPixels = 1 << 28

    /// COCO RLE: column-major runs, starting with a run of unset pixels (pycocotools `encode`).
    var rle: RLEMask {
        var runs = Runs()
        for x in 0..<width {
            for y in 0..<height { runs.add(pixels[y * width + x] != 0) }
        }
        return RLEMask(height: height, width: width, counts: .runs(runs.lengths))
    }

    /// Run lengths of pixels in the order they are added, starting with a run of unset ones
    /// (of length 0 when the first is set), as COCO and CVAT count them.
    struct Runs {
        private var counted: [Int] = []
        private var current = false
        private var length = 0

        mutating func add(_ set: Bool, count: Int = 1) {
            guard count > 0 else { return }
            if set != current {
                counted.append(length)
                current = set
                length = 0
            }
            length += count
        }

        var lengths: [Int] { counted + [length] }
    }

    /// The smallest box of whole pixels holding every set pixel (x_max and y_max one past the
    /// last), as pycocotools' `toBbox`; nil when none is set.
    var bounds: BoundingBox? {
        var xMin = width, yMin = height, xMax = -1, yMax = -1
        for y in 0..<height {
            for x in 0..<width where pixels[y * width + x] != 0 {
                xMin = min(xMin, x)
                xMax = max(xMax, x)
                yMin = min(yMin, y)
                yMax = max(yMax, y)
            }
        }
        guard xMax >= 0 else { return nil }
        return BoundingBox(xMin: Double(xMin), yMin: Double(yMin), xMax: Double(xMax + 1), yMax: Double(yMax + 1))
    }

    var setCount: Int { pixels.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixels of a COCO RLE mask; nil when its runs are malformed or do not fill it.
    init?(_ rle: RLEMask) {
        guard rle.width > 0, rle.height > 0, rle.width * rle.height <= Self.maxPixels, let runs = rle.runLengths(),
            runs.allSatisfy({ $0 >= 0 }), runs.reduce(0, +) == rle.width * rle.height
        else { return nil }
        width = rle.width
        height = rle.height
        pixels = [UInt8](repeating: 0, count: width * height)
        var index = 0
        for (n, run) in runs.enumerated() {
            if n % 2 == 1 {
                for i in index..<(index + run) { pixels[(i % height) * width + i / height] = 1 }
            }
            index += run
        }
    }
}
