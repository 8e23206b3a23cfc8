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

    /// The mask on an image of `imageWidth` × `imageHeight`: COCO RLE over the whole image, the
    /// set pixels' bounds (nil when none is set) and their count. Work and memory are the box's,
    /// not the image's. Throws naming the attribute at fault (the caller adds the element's path).
    func placed(imageWidth: Int, imageHeight: Int) throws(CVATMaskFault) -> (rle: RLEMask, bounds: BoundingBox?, area: Int) {
        guard imageWidth > 0, imageHeight > 0, imageWidth <= BinaryMask.maxPixels / imageHeight else {
            throw CVATMaskFault(attribute: "", message: "the image's size \(imageWidth) × \(imageHeight) is not one a mask may have")
        }
        guard left + width <= imageWidth else {
            throw CVATMaskFault(attribute: "width", message: "the mask's box (left \(left), width \(width)) passes the image's width \(imageWidth)")
        }
        guard top + height <= imageHeight else {
            throw CVATMaskFault(attribute: "height", message: "the mask's box (top \(top), height \(height)) passes the image's height \(imageHeight)")
        }
        var box = [Bool](repeating: false, count: width * height)
        var index = 0
        for (n, run) in runs.enumerated() {
            if n % 2 == 1 { for i in index..<(index + run) { box[i] = true } }
            index += run
        }
        // Column by column over the whole image: the columns beside the box, and the rows above
        // and below it, are unset runs added whole.
        var coco = BinaryMask.Runs()
        var area = 0
        var (xMin, yMin, xMax, yMax) = (Int.max, Int.max, -1, -1)
        coco.add(false, count: left * imageHeight)
        for x in 0..<width {
            coco.add(false, count: top)
            for y in 0..<height {
                let set = box[y * width + x]
                coco.add(set)
                guard set else { continue }
                area += 1
                (xMin, xMax, yMin, yMax) = (min(xMin, x), max(xMax, x), min(yMin, y), max(yMax, y))
            }
            coco.add(false, count: imageHeight - top - height)
        }
        coco.add(false, count: (imageWidth - left - width) * imageHeight)
        let bounds = xMax < 0 ? nil : BoundingBox(
            xMin: Double(left + xMin), yMin: Double(top + yMin), xMax: Double(left + xMax + 1), yMax: Double(top + yMax + 1))
        return (RLEMask(height: imageHeight, width: imageWidth, counts: .runs(coco.lengths)), bounds, area)
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
        var runs = BinaryMask.Runs()
        for y in top..<(top + height) {
            for x in left..<(left + width) { runs.add(mask.pixels[y * mask.width + x] != 0) }
        }
        self.runs = runs.lengths
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
