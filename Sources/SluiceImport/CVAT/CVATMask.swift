import SluiceModel

/// CVAT's `<mask>`: a box (`left`, `top`, `width`, `height`, in whole pixels) and `rle`, the
/// runs of its pixels row by row, starting with a run of unset ones ("3, 2, 7"). CVAT's export
/// writes the tightest box; Datumaro's writes the whole image. Sluice keeps masks as COCO RLE
/// over the whole image, so the image's size is needed both ways.
struct CVATMask: Equatable {
    var left: Int
    var top: Int
    var width: Int
    var height: Int
    var runs: [Int]

    /// The mask's pixels on an image of `imageWidth` × `imageHeight`. Throws a message naming
    /// the attribute at fault (the caller adds the element's path).
    func pixels(imageWidth: Int, imageHeight: Int) throws(CVATMaskFault) -> BinaryMask {
        guard imageWidth > 0, imageHeight > 0, imageWidth * imageHeight <= BinaryMask.maxPixels else {
            throw CVATMaskFault(attribute: "", message: "the image's size \(imageWidth) × \(imageHeight) is not one a mask may have")
        }
        guard left + width <= imageWidth else {
            throw CVATMaskFault(attribute: "width", message: "the mask's box (left \(left), width \(width)) passes the image's width \(imageWidth)")
        }
        guard top + height <= imageHeight else {
            throw CVATMaskFault(attribute: "height", message: "the mask's box (top \(top), height \(height)) passes the image's height \(imageHeight)")
        }
        var mask = BinaryMask(width: imageWidth, height: imageHeight, pixels: [UInt8](repeating: 0, count: imageWidth * imageHeight))
        var index = 0
        for (n, run) in runs.enumerated() {
            if n % 2 == 1 {
                for i in index..<(index + run) { mask.pixels[(top + i / width) * imageWidth + left + i % width] = 1 }
            }
            index += run
        }
        return mask
    }

    /// The mask of `element`'s attributes, checked: whole numbers, a box of at least one pixel,
    /// and runs that fill it exactly.
    init(attributes: [String: String]) throws(CVATMaskFault) {
        func whole(_ name: String, least: Int) throws(CVATMaskFault) -> Int {
            guard let text = attributes[name] else { throw CVATMaskFault(attribute: name, message: "is missing") }
            guard let value = Int(text.trimmed()), value >= least else {
                throw CVATMaskFault(attribute: name, message: "expected a whole number ≥ \(least), got '\(text)'")
            }
            return value
        }
        left = try whole("left", least: 0)
        top = try whole("top", least: 0)
        width = try whole("width", least: 1)
        height = try whole("height", least: 1)
        guard width <= BinaryMask.maxPixels / height else {
            throw CVATMaskFault(attribute: "width", message: "a mask of \(width) × \(height) pixels is larger than any image Sluice reads")
        }
        guard let text = attributes["rle"] else { throw CVATMaskFault(attribute: "rle", message: "is missing") }
        var runs: [Int] = []
        var total = 0
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let run = Int(field.trimmed()), run >= 0 else {
                throw CVATMaskFault(attribute: "rle", message: "expected run lengths such as '3, 2, 7', got '\(field)'")
            }
            total += min(run, width * height + 1)
            guard total <= width * height else {
                throw CVATMaskFault(attribute: "rle", message: "the runs add up to more than width × height = \(width * height)")
            }
            runs.append(run)
        }
        guard total == width * height else {
            throw CVATMaskFault(attribute: "rle", message: "the runs add up to \(total), not width × height = \(width * height)")
        }
        self.runs = runs
    }

    /// The tightest box of `mask`'s set pixels and their runs in it, as CVAT writes a mask; a
    /// mask with no pixel set is one unset pixel at the origin (CVAT has no empty mask).
    init(_ mask: BinaryMask) {
        guard let bounds = mask.bounds else {
            self = CVATMask(left: 0, top: 0, width: 1, height: 1, runs: [1])
            return
        }
        left = Int(bounds.xMin)
        top = Int(bounds.yMin)
        width = Int(bounds.xMax) - left
        height = Int(bounds.yMax) - top
        var runs: [Int] = []
        var current: UInt8 = 0
        var length = 0
        for y in top..<(top + height) {
            for x in left..<(left + width) {
                let bit: UInt8 = mask.pixels[y * mask.width + x] != 0 ? 1 : 0
                if bit != current {
                    runs.append(length)
                    current = bit
                    length = 0
                }
                length += 1
            }
        }
        runs.append(length)
        self.runs = runs
    }

    init(left: Int, top: Int, width: Int, height: Int, runs: [Int]) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
        self.runs = runs
    }

    /// The element's geometry attributes, as CVAT writes them.
    var xmlAttributes: String {
        "rle=\"\(runs.map(String.init).joined(separator: ", "))\" left=\"\(left)\" top=\"\(top)\" width=\"\(width)\" height=\"\(height)\""
    }
}

/// What is wrong with a `<mask>`: the attribute (empty for the element) and why.
struct CVATMaskFault: Error {
    var attribute: String
    var message: String
}
