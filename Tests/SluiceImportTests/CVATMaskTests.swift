import SluiceModel
import Testing

@testable import SluiceImport

/// CVAT's masks (runs over a box, row by row) against COCO RLE over the whole image, and the
/// skeleton drawing's edges: the conversions both ways, checked on masks small enough to read.
@Suite struct CVATMaskTests {
    /// A 5 × 4 image with a 3 × 2 mask at (1, 1) whose middle top pixel is unset.
    static let pixels: [UInt8] = [
        0, 0, 0, 0, 0,
        0, 1, 0, 1, 0,
        0, 1, 1, 1, 0,
        0, 0, 0, 0, 0,
    ]

    @Test func aMaskPlacesItsRunsRowByRowInItsBox() throws {
        let cvat = try CVATMask(attributes: ["rle": "0, 1, 1, 4", "left": "1", "top": "1", "width": "3", "height": "2"])
        let placed = try cvat.placed(imageWidth: 5, imageHeight: 4)
        // COCO RLE is column by column over the whole image, from an unset run.
        #expect(placed.rle.counts == .runs([5, 2, 3, 1, 2, 2, 5]))
        #expect(BinaryMask(placed.rle)?.pixels == Self.pixels)
        #expect(placed.bounds == BoundingBox(xMin: 1, yMin: 1, xMax: 4, yMax: 3) && placed.area == 5)
        // The same as encoding the whole image's pixels.
        #expect(placed.rle == BinaryMask(width: 5, height: 4, pixels: Self.pixels).rle)
    }

    /// A small mask on a large image costs its box, not the image's 256 million pixels.
    @Test func aSmallMaskOnALargeImageIsPlacedByItsBox() throws {
        let placed = try CVATMask(left: 15_990, top: 15_990, width: 2, height: 2, runs: [1, 3]).placed(imageWidth: 16_000, imageHeight: 16_000)
        guard case .runs(let runs) = placed.rle.counts else { Issue.record("expected runs"); return }
        #expect(runs.reduce(0, +) == 16_000 * 16_000 && runs.count == 5 && runs[0] == 15_990 * 16_000 + 15_991 && runs[1] == 1 && runs[3] == 2)
        #expect(placed.area == 3 && placed.bounds == BoundingBox(xMin: 15_990, yMin: 15_990, xMax: 15_992, yMax: 15_992))
    }

    @Test func aMaskIsWrittenInItsTightestBoxAndReadsBackTheSame() throws {
        let mask = BinaryMask(width: 5, height: 4, pixels: Self.pixels)
        let cvat = CVATMask(mask)
        #expect(cvat == CVATMask(left: 1, top: 1, width: 3, height: 2, runs: [0, 1, 1, 4]))
        #expect(cvat.xmlAttributes == #"rle="0, 1, 1, 4" left="1" top="1" width="3" height="2""#)
        #expect(BinaryMask(try cvat.placed(imageWidth: 5, imageHeight: 4).rle) == mask)
        // CVAT has no empty mask: one unset pixel stands for it, and reads back empty.
        let empty = BinaryMask(width: 5, height: 4, pixels: [UInt8](repeating: 0, count: 20))
        let none = try CVATMask(empty).placed(imageWidth: 5, imageHeight: 4)
        #expect(BinaryMask(none.rle) == empty && none.bounds == nil && none.area == 0)
    }

    @Test func aMaskThatDoesNotFitIsRefusedNamingTheAttribute() throws {
        func fault(_ attributes: [String: String], size: (Int, Int) = (5, 4)) -> CVATMaskFault? {
            do {
                _ = try CVATMask(attributes: attributes).placed(imageWidth: size.0, imageHeight: size.1)
                return nil
            } catch {
                return error
            }
        }
        let box = ["left": "1", "top": "1", "width": "3", "height": "2"]
        #expect(fault(box.merging(["rle": "0, 1, 1, 3"]) { $1 })?.message == "the runs add up to 5, not width × height = 6")
        #expect(fault(box.merging(["rle": "0, 1, 1, 9"]) { $1 })?.attribute == "rle")
        #expect(fault(box.merging(["rle": "0, 1, -1, 6"]) { $1 })?.attribute == "rle")
        #expect(fault(box.merging(["rle": "0, 6", "left": "3"]) { $1 })?.attribute == "width")
        #expect(fault(box.merging(["rle": "0, 6", "top": "3"]) { $1 })?.attribute == "height")
        #expect(fault(box.merging(["rle": "", "height": "0"]) { $1 })?.attribute == "height")
        #expect(fault(["rle": "1", "left": "0", "top": "0", "width": "1", "height": "1"], size: (1 << 15, 1 << 15)) != nil)
    }

    @Test func aSkeletonsEdgesAreReadFromItsDrawingAndWrittenBackTheSame() {
        let names = ["head", "left & hand", "right hand"]
        let drawn = CVATSkeleton.svg(names: names, edges: [[1, 2], [1, 3]])
        #expect(CVATSkeleton.edges(svg: drawn, pointNames: names) == [[1, 2], [1, 3]])
        // CVAT's own drawing: node ids are not the points' order, and a line to an unknown node is dropped.
        let cvat = #"<line data-node-from="7" data-node-to="3"></line><line data-node-from="7" data-node-to="9"></line>"#
            + #"<circle data-node-id="7" data-label-name="right hand"></circle><circle data-node-id="3" data-label-name="head"></circle>"#
        #expect(CVATSkeleton.edges(svg: cvat, pointNames: names) == [[3, 1]])
        #expect(CVATSkeleton.edges(svg: "", pointNames: names) == nil)
    }
}
