import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import SluiceThumbnails
import Testing

@testable import SluiceImport

/// Pascal VOC's SegmentationObject masks: on the objects they belong to, counted against the
/// PNG's pixels independently, faults naming the PNG, and export → import keeping them.
extension FolderFormatTests {
    static let vocMaskDecoder: IndexImageDecoder = {
        try MaskImage.readSamples(at: $0, maxPixels: VOCImporter.maxMaskPixels)
    }

    static func importVOCMasks(_ path: String, _ store: SQLiteStore, _ dataset: String = "D") async throws -> ImportSummary {
        _ = try await store.ensureProject(Project(id: "p", name: "p"))
        return try await VOCImporter(maskDecoder: vocMaskDecoder)
            .importFolder(at: path, into: store, projectID: "p", datasetName: dataset)
    }

    /// The set pixels of an RLE mask as (x, y), row by row.
    static func pixels(of mask: RLEMask?) throws -> [[Int]] {
        guard let mask else { return [] }
        let bits = try #require(BinaryMask(mask))
        return (0..<(bits.width * bits.height)).filter { bits.pixels[$0] != 0 }.map { [$0 % bits.width, $0 / bits.width] }
    }

    /// A 20 × 10 object index image for datumaro-voc1's first image (two objects): object 1 a
    /// block, object 2 an L, a void (255) border round each, background elsewhere.
    static let drawnIndices: [UInt8] = {
        var indices = [UInt8](repeating: 0, count: 200)
        for y in 1...4 { for x in 1...5 { indices[y * 20 + x] = 255 } }
        for y in 2...3 { for x in 2...4 { indices[y * 20 + x] = 1 } }
        for y in 4...8 { indices[y * 20 + 12] = 2 }
        for x in 12...17 { indices[8 * 20 + x] = 2 }
        for x in 11...18 { indices[9 * 20 + x] = 255 }
        return indices
    }()

    /// A copy of datumaro-voc1 whose SegmentationObject PNG is `drawnIndices`, as a palette PNG in
    /// VOC's palette (the form of VOC's own PNGs).
    static func drawnVOCFolder(in directory: URL) throws -> String {
        let folder = try copy(voc1, into: directory)
        let png = MaskPNG.encodeIndexed(width: 20, height: 10, indices: drawnIndices, palette: VOCPalette.plte)
        try Data(png).write(to: URL(fileURLWithPath: "\(folder)/SegmentationObject/2007_000001.png"))
        return folder
    }

    @Test func vocFixtureObjectsGetTheMaskOfTheirPixels() async throws {
        try await withTemporaryStore { store, _ in
            let summary = try await Self.importVOCMasks(Self.voc1, store)
            let first = try #require(try await Self.items(store, "D").first)
            #expect(summary.instances == 3, "masks ride on their objects: no extra instances")
            // Independently of the palette mapping: the pixels of VOC's colour for object 1
            // (128, 0, 0) and object 2 (0, 128, 0) in the PNG's decoded samples.
            let png = try MaskImage.readSamples(at: "\(Self.voc1)/SegmentationObject/2007_000001.png", maxPixels: 1000)
            #expect(png.bands == 3, "the fixture is an RGB PNG")
            func pixels(_ rgb: [UInt8]) -> [[Int]] {
                (0..<(png.width * png.height)).filter { Array(png.samples[(3 * $0)..<(3 * $0 + 3)]) == rgb }
                    .map { [$0 % png.width, $0 / png.width] }
            }
            let objects = first.instances.filter { $0.metadata["voc_part_of"] == nil }
            #expect(objects.map(\.label) == ["cat", "person"])
            for (object, colour) in zip(objects, [[128, 0, 0], [0, 128, 0]] as [[UInt8]]) {
                let expected = pixels(colour)
                #expect(try Self.pixels(of: object.geometry.mask) == expected, "\(object.label ?? "")'s mask")
                #expect(object.area == (expected.isEmpty ? nil : Double(expected.count)))
                #expect(object.kind == .box, "the object stays a box, with the XML's bndbox")
            }
            #expect(objects[0].geometry.mask != nil && objects[0].area == 200, "the fixture's cat covers its 20 × 10 image")
            #expect(objects[0].bbox == BoundingBox(xMin: 1, yMin: 2, xMax: 3, yMax: 4))
            #expect(first.instances.first { $0.label == "head" }?.geometry.mask == nil, "parts have no masks")
        }
    }

    @Test func aPalettePNGDecodesToItsIndicesAndVoidIsNoObjects() async throws {
        try await withTemporaryStore { store, directory in
            let folder = try Self.drawnVOCFolder(in: directory)
            _ = try await Self.importVOCMasks(folder, store)
            let objects = try #require(try await Self.items(store, "D").first).instances
                .filter { $0.metadata["voc_part_of"] == nil }
            for (k, object) in objects.enumerated() {
                let expected = (0..<200).filter { Self.drawnIndices[$0] == UInt8(k + 1) }.map { [$0 % 20, $0 / 20] }
                #expect(try Self.pixels(of: object.geometry.mask) == expected, "object \(k + 1)")
                #expect(object.area == Double(expected.count))
            }
            #expect(objects.map(\.area) == [6, 10], "void and background belong to no object")
        }
    }

    @Test func anIndexWithNoObjectIsAFaultNamingThePNG() async throws {
        try await withTemporaryStore { store, directory in
            let folder = try Self.copy(Self.voc1, into: directory)
            var indices = [UInt8](repeating: 0, count: 200)
            indices[3 * 20 + 7] = 3  // the XML has two objects
            indices[0] = 255
            let png = MaskPNG.encodeIndexed(width: 20, height: 10, indices: indices, palette: VOCPalette.plte)
            try Data(png).write(to: URL(fileURLWithPath: "\(folder)/SegmentationObject/2007_000001.png"))
            let error = await #expect(throws: ImportError.self) { try await Self.importVOCMasks(folder, store) }
            #expect(
                error
                    == .invalid(
                        file: "SegmentationObject/2007_000001.png", line: 0, path: "pixel (7, 3)",
                        message: "object index 3, but Annotations/2007_000001.xml has 2 objects"))
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "the failed import left no dataset")

            // A colour outside VOC's palette names no index.
            var rgb = [UInt8](repeating: 0, count: 600)
            rgb[3 * 21] = 1
            let colour = #expect(throws: ImportError.self) {
                try VOCObjectMap(width: 20, height: 10, bands: 3, samples: rgb, file: "SegmentationObject/x.png")
            }
            #expect(
                colour
                    == .invalid(
                        file: "SegmentationObject/x.png", line: 0, path: "pixel (1, 1)",
                        message: "colour 1,0,0 is not in the VOC palette, so it names no object"))
        }
    }

    @Test func vocPaletteIsVOCsAndMapsBack() {
        #expect(VOCPalette.color(of: 0) == (0, 0, 0) && VOCPalette.color(of: 1) == (128, 0, 0))
        #expect(VOCPalette.color(of: 15) == (192, 128, 128) && VOCPalette.color(of: 255) == (224, 224, 192))
        for index in 0...255 {
            let c = VOCPalette.color(of: UInt8(index))
            #expect(VOCPalette.index(red: c.red, green: c.green, blue: c.blue) == UInt8(index))
        }
        #expect(VOCPalette.index(red: 1, green: 0, blue: 0) == nil)
    }

    @Test func exportedMasksImportBackTheSame() async throws {
        try await withTemporaryStore { store, directory in
            let folder = try Self.drawnVOCFolder(in: directory)
            _ = try await Self.importVOCMasks(folder, store)
            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let out = directory.appendingPathComponent("out").path
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            _ = try await FolderExporter(source: ExportSource(store: store, dataset: dataset), format: .voc).write(into: out)

            let xml = try String(contentsOfFile: "\(out)/Annotations/2007_000001.xml", encoding: .utf8)
            #expect(xml.contains("<segmented>1</segmented>"))
            let unsegmented = try String(contentsOfFile: "\(out)/Annotations/2007_000002.xml", encoding: .utf8)
            #expect(unsegmented.contains("<segmented>0</segmented>"))
            #expect(try String(contentsOfFile: "\(out)/ImageSets/Segmentation/train.txt", encoding: .utf8) == "2007_000001\n")
            #expect(!FileManager.default.fileExists(atPath: "\(out)/SegmentationObject/2007_000002.png"))
            // The object PNG holds the objects' indices (void is not kept: it is no object's).
            let objectPNG = try MaskImage.readSamples(at: "\(out)/SegmentationObject/2007_000001.png", maxPixels: 1000)
            let indices = try VOCObjectMap(
                width: objectPNG.width, height: objectPNG.height, bands: objectPNG.bands, samples: objectPNG.samples, file: "")
            #expect(indices.indices == Self.drawnIndices.map { $0 == 255 ? 0 : $0 })
            // The class PNG: each object's pixels its label's line in the label map, in its colour.
            let map = try String(contentsOfFile: "\(out)/labelmap.txt", encoding: .utf8).split(separator: "\n")
                .filter { !$0.hasPrefix("#") }.map { $0.split(separator: ":", omittingEmptySubsequences: false) }
            #expect(map.first?.prefix(2) == ["background", "0,0,0"])
            let classPNG = try MaskImage.readSamples(at: "\(out)/SegmentationClass/2007_000001.png", maxPixels: 1000)
            for (pixel, index) in Self.drawnIndices.enumerated() {
                let label = index == 1 ? "cat" : index == 2 ? "person" : "background"
                let colour = try #require(map.first { $0[0] == label }?[1])
                #expect(classPNG.samples[(3 * pixel)..<(3 * pixel + 3)].map(String.init).joined(separator: ",") == colour)
            }

            _ = try await Self.importVOCMasks(out, store, "again")
            let before = try await Self.items(store, "D"), after = try await Self.items(store, "again")
            #expect(Self.view(after) == Self.view(before))
            for (a, b) in zip(before, after) {
                #expect(a.instances.map(\.geometry.mask) == b.instances.map(\.geometry.mask), "\(a.file.name)")
                #expect(a.instances.map(\.area) == b.instances.map(\.area))
            }
        }
    }
}
