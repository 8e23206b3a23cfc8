import Foundation
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceImport

/// CVAT XML in and out: tracks become one instance per visible frame (CVAT's interpolation),
/// faults are named by file, line and element with nothing kept, and every kind CVAT has an
/// element for comes back out and in the same, on both engines.
@Suite struct CVATTests {
    static let video = Fixtures.path("cvat/datumaro-video")

    static func importCVAT(_ path: String, _ store: any Store, _ dataset: String = "D", video: String? = nil) async throws
        -> ImportSummary
    {
        _ = try await store.ensureProject(Project(id: "p", name: "p"))
        return try await CVATImporter(videoPath: video).importAnnotations(at: path, into: store, projectID: "p", datasetName: dataset)
    }

    static func items(_ store: any Store, _ name: String) async throws -> [Item] {
        let dataset = try #require(try await store.dataset(projectID: "p", name: name))
        return try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
    }

    static func document(_ body: String, meta: String = "", labels: String = "") -> String {
        """
        <?xml version="1.0" encoding="utf-8"?>
        <annotations>
          <version>1.1</version>
          <meta><task><mode>interpolation</mode><start_frame>0</start_frame><stop_frame>19</stop_frame>\(meta)
            <labels><label><name>car</name><attributes><attribute><name>parked</name><input_type>checkbox</input_type></attribute></attributes></label>\(labels)</labels>
          </task></meta>
        \(body)
        </annotations>
        """
    }

    @Test func theVideoFixturesTracksLandOnTheirFramesImages() async throws {
        try await withTemporaryStore { store, _ in
            let summary = try await Self.importCVAT(Self.video, store)
            let items = try await Self.items(store, "D")
            #expect(items.map(\.file.name) == ["frame_000010.png", "frame_000013.png", "frame_000016.png"])
            #expect(items.allSatisfy { $0.file.type == .frame && $0.file.media.sha256 != nil })
            #expect(summary.instances == 3, "the outside shapes are not instances")
            let frame10 = items[0].instances.sorted { ($0.track ?? 0) < ($1.track ?? 0) }
            #expect(frame10.map(\.track) == [0, 1] && frame10.allSatisfy { $0.frame == 10 })
            #expect(frame10[0].label == "II" && frame10[0].kind == .box && frame10[0].bbox == BoundingBox(xMin: 3, yMin: 4, xMax: 10, yMax: 5))
            #expect(frame10[0].attributes["occluded"] == .bool(true) && frame10[0].attributes["keyframe"] == .bool(true))
            #expect(frame10[1].kind == .point && frame10[1].attributes["hgl"] == .string("hgkf"))
            #expect(items[1].instances.map(\.kind) == [.line] && items[1].instances[0].track == 2)
            #expect(items[2].instances.isEmpty)
            #expect(items[0].file.metadata["frame"] == .number(10) && items[0].file.metadata["frame_step"] == .number(3))
        }
    }

    @Test func framesBetweenKeyframesAreInterpolatedAsCVATDoes() throws {
        let xml = """
            <track id="4" label="car">
              <box frame="0" outside="0" occluded="0" keyframe="1" xtl="0" ytl="0" xbr="10" ybr="10"><attribute name="parked">true</attribute></box>
              <box frame="10" outside="0" occluded="0" keyframe="1" xtl="10" ytl="20" xbr="30" ybr="40"/>
              <box frame="12" outside="1" occluded="0" keyframe="1" xtl="10" ytl="20" xbr="30" ybr="40"/>
              <box frame="16" outside="0" occluded="1" keyframe="1" xtl="1" ytl="1" xbr="2" ybr="2"/>
            </track>
            """
        let element = try XMLTree.parse(Data(xml.utf8), file: "t.xml")
        var meta = CVATMeta()
        meta.stopFrame = 18
        meta.frameStep = 2
        let track = try CVATTrack(element, path: "annotations/track[1]", file: "t.xml", meta: meta)
        let shapes = try track.visibleShapes(inFrameSet: { $0 % 2 == 0 }, stopFrame: 18)
        #expect(shapes.map(\.frame) == [0, 2, 4, 6, 8, 10, 16, 18], "outside at 12 until 16; held to the stop frame")
        #expect(shapes[2].bbox == BoundingBox(xMin: 4, yMin: 8, xMax: 18, yMax: 22), "40% of the way")
        #expect(shapes[2].isKeyframe == false && shapes[5].isKeyframe == true)
        #expect(shapes[5].attributes["parked"] == .string("true"), "a keyframe keeps the attribute it does not repeat")
        #expect(shapes[7].bbox == shapes[6].bbox && shapes[7].attributes["occluded"] == .bool(true))

        let outlines = """
            <track id="1" label="car">
              <polygon frame="0" outside="0" occluded="0" points="0,0;4,0;0,4"/>
              <polygon frame="2" outside="0" occluded="0" points="2,0;6,0;2,4"/>
              <polygon frame="4" outside="0" occluded="0" points="0,0;1,0;1,1;0,1"/>
              <polygon frame="6" outside="1" occluded="0" points="0,0;1,0;1,1;0,1"/>
            </track>
            """
        let polygonTrack = try CVATTrack(
            try XMLTree.parse(Data(outlines.utf8), file: "t.xml"), path: "annotations/track[1]", file: "t.xml", meta: meta)
        let polygons = try polygonTrack.visibleShapes(inFrameSet: { _ in true }, stopFrame: nil)
        #expect(polygons[1].geometry.polygon == [[1, 0, 5, 0, 1, 4]], "same point count: point by point")
        #expect(polygons[3].geometry.polygon == [[2, 0, 6, 0, 2, 4]], "different counts: the earlier keyframe holds")
    }

    @Test func faultsNameFileLineAndElementAndNothingIsKept() async throws {
        try await withTemporaryStore { store, directory in
            let path = directory.appendingPathComponent("annotations.xml").path
            func refused(_ body: String) async throws -> ImportError? {
                try Self.document(body).write(toFile: path, atomically: true, encoding: .utf8)
                return await #expect(throws: ImportError.self) { try await Self.importCVAT(path, store) }
            }
            let bad = try await refused(
                """
                <image id="0" name="a.jpg" width="10" height="10">
                  <box label="car" occluded="0" xtl="1" ytl="2" xbr="3" ybr="4"/>
                  <box label="car" occluded="0" xtl="1" ytl="two" xbr="3" ybr="4"/>
                </image>
                """)
            #expect(bad == .invalid(file: "annotations.xml", line: 9, path: "annotations/image[1]/box[2]/@ytl", message: "expected a number, got 'two'"))
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "the failed import left no dataset")
            #expect(try await store.labels(projectID: "p").isEmpty, "nor the labels its meta declared")

            // A mask is over its image: with no size given and no media to read one from, it cannot be placed.
            let mask = try await refused(#"<image id="0" name="a.jpg"><mask label="car" rle="1, 2" left="0" top="0" width="1" height="3"/></image>"#)
            #expect(mask?.description.contains("annotations/image[1]/mask[1]: a mask needs its image's size") == true)
            let overrun = try await refused(
                #"<image id="0" name="a.jpg" width="4" height="4"><mask label="car" rle="1, 2, 2" left="0" top="0" width="2" height="2"/></image>"#)
            #expect(overrun?.description.contains("annotations/image[1]/mask[1]/@rle: the runs add up to more than width × height = 4") == true)
            let skeleton = try await refused(
                #"<image id="0" name="a.jpg"><skeleton label="car"><points label="nose" points="1,1"/></skeleton></image>"#)
            #expect(skeleton?.description.contains("annotations/image[1]/skeleton[1]/@label: 'car' is not a skeleton label") == true)

            let mixed = try await refused(
                #"<track id="0" label="car"><box frame="0" xtl="0" ytl="0" xbr="1" ybr="1"/><polygon frame="1" points="0,0;1,0;1,1"/></track>"#)
            #expect(mixed?.description.contains("annotations/track[1]/polygon[1]: a track's shapes must all be of one kind") == true)

            let twice = try await refused(
                #"<track id="0" label="car"><box frame="3" xtl="0" ytl="0" xbr="1" ybr="1"/><box frame="3" xtl="0" ytl="0" xbr="1" ybr="1"/></track>"#)
            #expect(twice?.description.contains("two shapes of the track are on frame 3") == true)

            // Keyframes a trillion frames apart would be a trillion rows: refused, not materialised.
            let far = try await refused(
                #"<track id="0" label="car"><box frame="0" xtl="0" ytl="0" xbr="1" ybr="1"/><box frame="1000000000000" xtl="0" ytl="0" xbr="1" ybr="1"/></track>"#)
            #expect(far?.description.contains("annotations/track[1]: the track spans frames 0…1000000000000") == true)

            let climbing = try await refused(#"<image id="0" name="../../x.jpg"/>"#)
            guard case .unsafePath(let field, _, _)? = climbing else {
                Issue.record("expected a refused path, got \(String(describing: climbing))")
                return
            }
            #expect(field.hasSuffix("annotations/image[1]/@name"))
        }
    }

    static func view(_ items: [Item]) -> [String] {
        items.flatMap { item in
            item.instances.map { instance in
                let b = instance.bbox.map { String(format: "%.3f %.3f %.3f %.3f", $0.xMin, $0.yMin, $0.xMax, $0.yMax) } ?? "-"
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                let geometry = String(decoding: (try? encoder.encode(instance.geometry)) ?? Data(), as: UTF8.self)
                let attributes = instance.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                return "\(item.file.name) \(instance.frame ?? -1) \(instance.track ?? -1) \(instance.label ?? "-") "
                    + "\(instance.kind.rawValue) \(b) \(geometry) \(attributes.joined(separator: ",")) \(instance.metadata.sorted { $0.key < $1.key })"
            }
        }.sorted()
    }

    @Test(arguments: StoreEngine.available)
    func everyKindComesBackOutAndInTheSame(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, directory in
            let source = directory.appendingPathComponent("source")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            let images = """
                <image id="0" name="a.jpg" width="40" height="30">
                  <box label="car" occluded="1" xtl="1.5" ytl="2" xbr="20.25" ybr="12" z_order="2" group_id="3" rotation="15"><attribute name="parked">true</attribute></box>
                  <ellipse label="car" occluded="0" cx="10" cy="10" rx="4" ry="2.5"/>
                  <cuboid label="car" occluded="0" xtl1="1" ytl1="1" xbl1="1" ybl1="5" xtr1="5" ytr1="1" xbr1="5" ybr1="5" xtl2="2" ytl2="0" xbl2="2" ybl2="4" xtr2="6" ytr2="0" xbr2="6" ybr2="4"/>
                  <polygon label="car" occluded="0" points="0,0;4,0;4,4"/>
                  <polyline label="" occluded="0" points="0,0;4,4"/>
                  <points label="car" occluded="0" points="1,1;2,2;3,3"/>
                  <tag label="car"><attribute name="parked">false</attribute></tag>
                  <mask label="car" occluded="1" rle="0, 1, 1, 4" left="1" top="1" width="3" height="2" z_order="1"/>
                  <skeleton label="person" z_order="0"><points label="nose" outside="0" occluded="1" points="3,4"><attribute name="seen">yes</attribute></points><points label="tail" outside="1" occluded="0" points="0,0"/><attribute name="parked">true</attribute></skeleton>
                </image>
                """
            let skeleton = """
                <label><name>person</name><type>skeleton</type><svg>&lt;line data-node-from="1" data-node-to="2"&gt;&lt;/line&gt;\
                &lt;circle data-node-id="1" data-label-name="nose"&gt;&lt;/circle&gt;&lt;circle data-node-id="2" data-label-name="tail"&gt;&lt;/circle&gt;</svg></label>
                <label><name>nose</name><type>points</type><parent>person</parent></label>
                <label><name>tail</name><type>points</type><parent>person</parent></label>
                """
            try Self.document(images, labels: skeleton).write(
                to: source.appendingPathComponent("annotations.xml"), atomically: true, encoding: .utf8)
            _ = try await Self.importCVAT(source.path, store)
            let dataset = try #require(try await store.dataset(projectID: "p", name: "D"))
            let out = directory.appendingPathComponent("out").path
            let summary = try await FolderExporter(source: ExportSource(store: store, dataset: dataset), format: .cvat).write(into: out)
            #expect(summary.instances == 9 && summary.skipped == 0)
            _ = try await Self.importCVAT(out, store, "again")
            let before = Self.view(try await Self.items(store, "D"))
            #expect(before.count == 9)
            let person = try #require(try await store.labels(projectID: "p").first { $0.name == "person" })
            #expect(person.keypointNames == ["nose", "tail"] && person.skeleton == [[1, 2]])
            let kinds = try await Self.items(store, "D")[0].instances.filter { $0.kind == .mask || $0.kind == .keypoints }
            #expect(kinds.map(\.area) == [5, nil] && kinds[0].bbox == BoundingBox(xMin: 1, yMin: 1, xMax: 4, yMax: 3))
            #expect(kinds[1].geometry.keypoints == [Keypoint(x: 3, y: 4, visibility: 1), Keypoint(x: 0, y: 0, visibility: 0)])
            let after = Self.view(try await Self.items(store, "again"))
            #expect(after == before, "\(after.filter { !before.contains($0) }) vs \(before.filter { !after.contains($0) })")

            // A video's tracks, on a video file with no media, out and back with their gaps.
            let tracks = """
                <track id="7" label="car">
                  <box frame="2" outside="0" occluded="0" keyframe="1" xtl="0" ytl="0" xbr="10" ybr="10"/>
                  <box frame="6" outside="1" occluded="0" keyframe="1" xtl="0" ytl="0" xbr="10" ybr="10"/>
                  <box frame="9" outside="0" occluded="0" keyframe="1" xtl="4" ytl="4" xbr="8" ybr="8"/>
                </track>
                <track id="8" label="car"><points frame="0" outside="0" occluded="0" keyframe="1" points="1,1"/><points frame="1" outside="1" occluded="0" keyframe="1" points="1,1"/></track>
                """
            let clip = directory.appendingPathComponent("clip")
            try FileManager.default.createDirectory(at: clip, withIntermediateDirectories: true)
            try Self.document(tracks, meta: "<size>20</size>").write(
                to: clip.appendingPathComponent("annotations.xml"), atomically: true, encoding: .utf8)
            _ = try await Self.importCVAT(clip.path, store, "video")
            let video = try await Self.items(store, "video")
            #expect(video.count == 1 && video[0].file.type == .video)
            #expect(video[0].instances.filter { $0.track == 7 }.compactMap(\.frame).sorted() == [2, 3, 4, 5] + Array(9...19))
            #expect(video[0].instances.filter { $0.track == 8 }.compactMap(\.frame) == [0])
            let videoDataset = try #require(try await store.dataset(projectID: "p", name: "video"))
            let videoOut = directory.appendingPathComponent("video-out").path
            _ = try await FolderExporter(source: ExportSource(store: store, dataset: videoDataset), format: .cvat).write(into: videoOut)
            _ = try await Self.importCVAT(videoOut, store, "video-again")
            let videoAfter = Self.view(try await Self.items(store, "video-again")), videoBefore = Self.view(video)
            // Every frame is listed in the export, with outside shapes where the object leaves.
            #expect(
                videoAfter == videoBefore, "\(videoAfter.filter { !videoBefore.contains($0) }) vs \(videoBefore.filter { !videoAfter.contains($0) })")
        }
    }
}
