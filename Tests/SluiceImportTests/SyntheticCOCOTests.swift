import Foundation
import SluiceTestSupport
import Testing

@testable import SluiceImport

@Suite struct SyntheticCOCOTests {
    @Test func sameSeedWritesSameBytes() async throws {
        try await withTemporaryDirectory { directory in
            let a = try SyntheticCOCO(files: 300, instancesPerFile: 4, labels: 10, seed: 7).write(to: directory.appendingPathComponent("a").path)
            let b = try SyntheticCOCO(files: 300, instancesPerFile: 4, labels: 10, seed: 7).write(to: directory.appendingPathComponent("b").path)
            let c = try SyntheticCOCO(files: 300, instancesPerFile: 4, labels: 10, seed: 8).write(to: directory.appendingPathComponent("c").path)
            let bytes = { (path: String) in try Data(contentsOf: URL(fileURLWithPath: path)) }
            #expect(try bytes(a.annotationsPath) == bytes(b.annotationsPath))
            #expect(try bytes(a.annotationsPath) != bytes(c.annotationsPath))
        }
    }

    @Test func boxesStayInsideImagesAndLabelsAreSkewed() async throws {
        try await withTemporaryDirectory { directory in
            let summary = try SyntheticCOCO(files: 2000, instancesPerFile: 7, labels: 40)
                .write(to: directory.appendingPathComponent("g").path)
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summary.annotationsPath)))
            let document = try #require(object as? [String: Any])
            let images = try #require(document["images"] as? [[String: Any]])
            let annotations = try #require(document["annotations"] as? [[String: Any]])
            #expect(images.count == 2000)
            #expect(annotations.count == summary.instances)
            // Uniform 0...14 per file: the mean is 7 within a few percent.
            #expect(abs(Double(annotations.count) / 2000 - 7) < 0.5)
            var sizes: [Int: (Int, Int)] = [:]
            for image in images { sizes[image["id"] as! Int] = (image["width"] as! Int, image["height"] as! Int) }
            var perLabel = [Int](repeating: 0, count: 41)
            for a in annotations {
                let box = a["bbox"] as! [Double]
                let (w, h) = sizes[a["image_id"] as! Int]!
                #expect(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= Double(w) && box[1] + box[3] <= Double(h))
                perLabel[a["category_id"] as! Int] += 1
            }
            // Zipf(1.1): the first label is far more frequent than the last.
            #expect(perLabel[1] > 10 * perLabel[40])
        }
    }

    @Test func tinyImagesAreValidPNGs() async throws {
        try await withTemporaryDirectory { directory in
            let summary = try SyntheticCOCO(files: 3, instancesPerFile: 1, labels: 2, writeImages: true)
                .write(to: directory.appendingPathComponent("g").path)
            let png = try Data(contentsOf: URL(fileURLWithPath: summary.imagesDirectory! + "/00000001.png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(png.count < 300)
        }
    }
}
