import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceImport
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// What the web page reads beside the item routes: the label histogram, thumbnails, and the
/// page's own files.
@Suite struct WebPageRoutesTests {
    struct Setup: Sendable {
        var store: SQLiteStore
        var dataset: Dataset
        var editor: HTTPFields
        var media: URL
    }

    func withServer(_ body: @escaping @Sendable (any TestClientProtocol, Setup) async throws -> Void) async throws {
        try await withTemporaryStore { store, directory in
            let dataset = try await store.importSample()
            let editor: HTTPFields = [.authorization: "Bearer \(try await store.editorToken())"]
            let (router, _) = SluiceAPI.buildRouter(store: store)
            let setup = Setup(store: store, dataset: dataset, editor: editor, media: directory.appendingPathComponent("media"))
            try await Application(router: router).test(.router) { client in try await body(client, setup) }
        }
    }

    /// The reference histogram: every live instance of every item read, counted by label.
    static func tally(_ items: [Item]) -> [Int64: LabelTally] {
        var tallies: [Int64: LabelTally] = [:]
        for item in items where !item.isRemoved {
            let labels = item.instances.compactMap(\.labelID)
            for label in Set(labels) {
                tallies[label, default: LabelTally()] =
                    tallies[label, default: LabelTally()] + LabelTally(instances: labels.filter { $0 == label }.count, files: 1)
            }
        }
        return tallies
    }

    static func totals(_ response: TestResponse) throws -> LabelTotals {
        #expect(response.status == .ok)
        return try JSONDecoder().decode(LabelTotals.self, from: Data(buffer: response.body))
    }

    static func nonZero(_ totals: LabelTotals) -> [Int64: LabelTally] {
        Dictionary(
            uniqueKeysWithValues: totals.labels.filter { $0.instances > 0 }.map { ($0.id, LabelTally(instances: $0.instances, files: $0.files)) })
    }

    @Test func theHistogramCountsWhatTheItemsHoldNowInASliceAndAtAnOlderVersion() async throws {
        try await withServer { client, setup in
            let store = setup.store, dataset = setup.dataset
            let before = try await store.items(datasetID: dataset.id, range: 0..<dataset.count)
            let labels = try await store.labels(projectID: dataset.projectID)
            let now = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/labels", method: .get) { try Self.totals($0) }
            #expect(now.labels.map(\.id) == labels.map(\.id), "every label of the project, in id order")
            #expect(now.count == dataset.count && now.version == dataset.version)
            #expect(Self.nonZero(now) == Self.tally(before))
            #expect(now.labels.contains { $0.name == "person" && $0.instances > 10 })

            // A slice: only the files it selects are counted.
            let slice = try await client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/slices", method: .post, body: ByteBuffer(string: #"{"query": "labels.person > 2"}"#)
            ) { try JSONDecoder().decode(SliceInfo.self, from: Data(buffer: $0.body)) }
            #expect(slice.count > 0 && slice.count < dataset.count)
            let sliced = try await client.execute(uri: "/api/v1/slices/\(slice.id)/labels", method: .get) { try Self.totals($0) }
            let selected = before.filter { item in item.instances.filter { $0.label == "person" }.count > 2 }
            #expect(sliced.count == slice.count)
            #expect(Self.nonZero(sliced) == Self.tally(selected))

            // A write: the histogram follows it; the version before keeps its own.
            let old = dataset.version
            let removed = before[0].file.id
            try await client.execute(
                uri: "/api/v1/datasets/\(dataset.id)/files/\(removed)", method: .delete, headers: setup.editor
            ) { #expect($0.status == .ok || $0.status == .noContent) }
            let after = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/labels", method: .get) { try Self.totals($0) }
            #expect(after.version > old)
            #expect(Self.nonZero(after) == Self.tally(Array(before.dropFirst())))
            #expect(Self.nonZero(after) != Self.nonZero(now), "the removed file's instances are no longer counted")
            let then = try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/labels?version=\(old)", method: .get) {
                try Self.totals($0)
            }
            #expect(then.version == old)
            #expect(Self.nonZero(then) == Self.nonZero(now), "the older version is read as it was")

            try await client.execute(uri: "/api/v1/datasets/\(dataset.id)/labels?version=nope", method: .get) {
                #expect($0.status == .notFound || $0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/v1/slices/not-a-token/labels", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test(arguments: StoreEngine.available) func keptHistogramCountsAreNamedAfresh(engine: StoreEngine) async throws {
        try await withTemporaryStore(engine) { store, _ in
            let dataset = try await store.importSample()
            let editor: HTTPFields = [.authorization: "Bearer \(try await store.editorToken())"]
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                let uri = "/api/v1/datasets/\(dataset.id)/labels"
                let first = try await client.execute(uri: uri, method: .get) { try Self.totals($0) }
                let again = try await client.execute(uri: uri, method: .get) { try Self.totals($0) }
                #expect(again == first)

                // A new colour moves no dataset version: the kept counts carry it; so does a rename.
                let person = try #require(first.labels.first { $0.name == "person" })
                try await client.execute(
                    uri: "/api/v1/projects/\(dataset.projectID)/labels/\(person.id)", method: .patch, headers: editor,
                    body: ByteBuffer(string: ##"{"color": "#123456"}"##)
                ) { #expect($0.status == .ok) }
                let recoloured = try await client.execute(uri: uri, method: .get) { try Self.totals($0) }
                #expect(recoloured.version == first.version)
                #expect(recoloured.labels.first { $0.id == person.id }?.color == "#123456")
                try await client.execute(
                    uri: "/api/v1/projects/\(dataset.projectID)/labels/\(person.id)", method: .patch, headers: editor,
                    body: ByteBuffer(string: #"{"name": "pedestrian"}"#)
                ) { #expect($0.status == .ok) }
                let renamed = try await client.execute(uri: uri, method: .get) { try Self.totals($0) }
                #expect(renamed.labels.first { $0.id == person.id }?.name == "pedestrian")
                #expect(renamed.labels.first { $0.id == person.id }?.instances == person.instances)
            }
        }
    }

    @Test func theHistogramCacheCountsOncePerKeyKeepsNothingThatMovedAndForgetsTheOldest() async throws {
        final class Calls: @unchecked Sendable {
            private let lock = NSLock()
            private var n = 0
            func add() { lock.withLock { n += 1 } }
            var count: Int { lock.withLock { n } }
        }
        let cache = LabelTotalsCache(capacity: 2)
        let calls = Calls()
        let tallies = LabelTallies(count: 3, byLabel: [1: LabelTally(instances: 5, files: 2)])
        let count: @Sendable () async throws -> (LabelTallies, keep: Bool) = { calls.add(); return (tallies, true) }
        #expect(try await cache.totals(for: .dataset(id: 1, version: 1), count: count) == tallies)
        #expect(try await cache.totals(for: .dataset(id: 1, version: 1), count: count) == tallies)
        #expect(calls.count == 1, "the second look-up is a hit")

        // Counts read while a write landed are answered but not kept.
        _ = try await cache.totals(for: .dataset(id: 1, version: 2)) { calls.add(); return (tallies, false) }
        _ = try await cache.totals(for: .dataset(id: 1, version: 2), count: count)
        #expect(calls.count == 3)

        // Capacity 2: a third key pushes out the least recently used (version 1).
        _ = try await cache.totals(for: .dataset(id: 2, version: 1), count: count)
        #expect(await cache.count == 2)
        _ = try await cache.totals(for: .dataset(id: 1, version: 2), count: count)
        #expect(calls.count == 4, "version 2 of dataset 1 was still held")
        _ = try await cache.totals(for: .dataset(id: 1, version: 1), count: count)
        #expect(calls.count == 5, "version 1 of dataset 1 was forgotten")

        // Two requests for a key being counted share one count.
        let slow: @Sendable () async throws -> (LabelTallies, keep: Bool) = {
            calls.add()
            try await Task.sleep(for: .milliseconds(200))
            return (tallies, true)
        }
        async let one = cache.totals(for: .dataset(id: 3, version: 1), count: slow)
        async let two = cache.totals(for: .dataset(id: 3, version: 1), count: slow)
        #expect(try await [one, two] == [tallies, tallies])
        #expect(calls.count == 6)
    }

    @Test func thumbnailsAreJPEGsWithinTheSizeMadeOnceAndRevalidated() async throws {
        try await withServer { client, setup in
            let item = try #require(try await setup.store.items(datasetID: setup.dataset.id, range: 0..<1).first)
            let (width, height) = (try #require(item.file.media.width), try #require(item.file.media.height))
            let uri = "/api/v1/files/\(item.file.id)/thumbnail?size=100"
            let etag = try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/jpeg")
                let header = try #require(ImageHeader(bytes: [UInt8](buffer: response.body)), "the body is an image")
                #expect(header.mimeType == "image/jpeg")
                // Sizes round up to a multiple of 32: 100 asks for 128.
                #expect(max(header.width, header.height) == 128)
                let ratio = Double(width) / Double(height), made = Double(header.width) / Double(header.height)
                #expect(abs(ratio - made) < 0.05, "the aspect ratio is kept")
                return try #require(response.headers[.eTag])
            }
            let kept = setup.media.appendingPathComponent("thumbnails/128/\(try #require(item.file.media.sha256)).jpg")
            #expect(FileManager.default.fileExists(atPath: kept.path), "made once, kept beside the media")
            try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: etag]) { #expect($0.status == .notModified) }

            // A cache that cannot keep a thumbnail (here its folder is a file) still serves it.
            let blocked = setup.media.appendingPathComponent("thumbnails/256")
            try Data("not a folder".utf8).write(to: blocked)
            try await client.execute(uri: "/api/v1/files/\(item.file.id)/thumbnail?size=256", method: .get) { response in
                #expect(response.status == .ok)
                #expect(ImageHeader(bytes: [UInt8](buffer: response.body))?.mimeType == "image/jpeg")
            }
            #expect(try Data(contentsOf: blocked) == Data("not a folder".utf8))

            for bad in ["0", "31", "1025", "big", "-5"] {
                try await client.execute(uri: "/api/v1/files/\(item.file.id)/thumbnail?size=\(bad)", method: .get) {
                    #expect($0.status == .badRequest, "size \(bad)")
                    #expect(String(buffer: $0.body).contains("size"))
                }
            }
            try await client.execute(uri: "/api/v1/files/999999/thumbnail", method: .get) { #expect($0.status == .notFound) }
        }
    }

    static let ffmpeg = ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A 10-frame video (ffmpeg's `testsrc`, 64 × 48, 25 frames a second) annotated by a CVAT
    /// track, imported beside the sample: the file id and the video's SHA-256.
    static func importVideo(_ store: SQLiteStore, in directory: URL) async throws -> (id: Int64, sha: String) {
        let folder = directory.appendingPathComponent("clip", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let make = Process()
        make.executableURL = URL(fileURLWithPath: try #require(ffmpeg))
        make.arguments = [
            "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", "10",
            "-pix_fmt", "yuv420p", folder.appendingPathComponent("clip.mp4").path,
        ]
        try make.run()
        make.waitUntilExit()
        try #require(make.terminationStatus == 0, "ffmpeg made the test video")
        try """
        <?xml version="1.0" encoding="utf-8"?>
        <annotations><version>1.1</version>
          <meta><task><mode>interpolation</mode><start_frame>0</start_frame><stop_frame>9</stop_frame>
            <labels><label><name>car</name></label></labels></task><source>clip.mp4</source></meta>
          <track id="0" label="car">
            <box frame="2" outside="0" occluded="0" keyframe="1" xtl="2" ytl="3" xbr="12" ybr="13"/>
          </track>
        </annotations>
        """.write(to: folder.appendingPathComponent("annotations.xml"), atomically: true, encoding: .utf8)
        _ = try await CVATImporter().importAnnotations(at: folder.path, into: store, projectID: "coco-dataset", datasetName: "clip")
        let dataset = try #require(try await store.dataset(projectID: "coco-dataset", name: "clip"))
        let file = try #require(try await store.items(datasetID: dataset.id, range: 0..<1).first).file
        #expect(file.type == .video && file.media.frameCount == 10)
        return (file.id, try #require(file.media.sha256))
    }

    @Test(.enabled(if: ffmpeg != nil, "needs Debian's ffmpeg, which scripts/test.sh installs"))
    func aVideosThumbnailIsTheFrameAskedForKeptPerFrame() async throws {
        try await withTemporaryStore { store, directory in
            let sample = try await store.importSample()
            let (id, sha) = try await Self.importVideo(store, in: directory)
            let (router, _) = SluiceAPI.buildRouter(store: store)
            try await Application(router: router).test(.router) { client in
                func thumbnail(_ query: String) async throws -> (bytes: [UInt8], etag: String) {
                    try await client.execute(uri: "/api/v1/files/\(id)/thumbnail?size=64\(query)", method: .get) { response in
                        #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                        let bytes = [UInt8](buffer: response.body)
                        let header = try #require(ImageHeader(bytes: bytes), "a JPEG")
                        #expect(header.mimeType == "image/jpeg" && header.width == 64 && header.height == 48)
                        return (bytes, response.headers[.eTag] ?? "")
                    }
                }
                let third = try await thumbnail("&frame=3")
                #expect(third.etag.contains("-f3-"))
                let kept = directory.appendingPathComponent("media/thumbnails/64/\(sha)-f3.jpg")
                #expect(FileManager.default.fileExists(atPath: kept.path), "made once, kept under its frame")
                let first = try await thumbnail("")
                #expect(try await thumbnail("&frame=0").bytes == first.bytes, "no frame means frame 0")
                #expect(first.bytes != third.bytes, "testsrc's frames differ, so their thumbnails do")
                try await client.execute(
                    uri: "/api/v1/files/\(id)/thumbnail?size=64&frame=3", method: .get, headers: [.ifNoneMatch: third.etag]
                ) { #expect($0.status == .notModified) }

                try await client.execute(uri: "/api/v1/files/\(id)/thumbnail?frame=10", method: .get) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("has 10 frames"))
                }
                for bad in ["-1", "two", "10000001"] {
                    try await client.execute(uri: "/api/v1/files/\(id)/thumbnail?frame=\(bad)", method: .get) { response in
                        #expect(response.status == .badRequest, "frame \(bad)")
                        #expect(String(buffer: response.body).contains("frame"))
                    }
                }
                // An image has one frame: it ignores `frame`, and its thumbnail is the same.
                let photo = try #require(try await store.items(datasetID: sample.id, range: 0..<1).first).file.id
                let plain = try await client.execute(uri: "/api/v1/files/\(photo)/thumbnail?size=64", method: .get) { $0.headers[.eTag] }
                try await client.execute(uri: "/api/v1/files/\(photo)/thumbnail?size=64&frame=5", method: .get) { response in
                    #expect(response.status == .ok && response.headers[.eTag] == plain)
                }
            }
        }
    }

    struct Appended: Decodable {
        struct Placed: Decodable { var file: File }
        var files: [Placed]
    }

    @Test func whatIsNotAnImageIsRefusedWith415() async throws {
        try await withServer { client, setup in
            let text = [UInt8]("just some words\n".utf8)
            let sha = SHA256.hash(data: text).map { String(format: "%02x", $0) }.joined()
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media/\(sha)", method: .put, headers: setup.editor, body: ByteBuffer(bytes: text)
            ) { #expect($0.status == .created) }
            let body = #"{"files": [{"name": "notes.txt", "sha256": "\#(sha)"}]}"#
            let reply = try await client.execute(
                uri: "/api/v1/datasets/\(setup.dataset.id)/files", method: .post, headers: setup.editor, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .created)
                return try JSONDecoder().decode(Appended.self, from: Data(buffer: response.body))
            }
            let textID = try #require(reply.files.first).file.id
            try await client.execute(uri: "/api/v1/files/\(textID)/thumbnail", method: .get) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(String(buffer: response.body).contains("not_an_image"))
            }

            // Stored bytes damaged on disk after upload (uploads are checked): a JPEG's magic
            // number and nothing a decoder reads. The reply says so; nothing is kept.
            let item = try #require(try await setup.store.items(datasetID: setup.dataset.id, range: 1..<2).first)
            let photoSHA = try #require(item.file.media.sha256)
            let damaged: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x41, count: 400)
            try Data(damaged).write(to: URL(fileURLWithPath: setup.store.media.path(for: photoSHA)))
            try await client.execute(uri: "/api/v1/files/\(item.file.id)/thumbnail?size=64", method: .get) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(String(buffer: response.body).contains("not_an_image"))
            }
            #expect(!FileManager.default.fileExists(atPath: setup.media.appendingPathComponent("thumbnails/64/\(photoSHA).jpg").path))
        }
    }

    static let bootOpening = #"<script type="application/json" id="sluice-boot">"#

    /// The data block of a served page, parsed; nil when the page has none.
    static func boot(_ page: String) throws -> [String: Any]? {
        guard let start = page.range(of: bootOpening) else { return nil }
        let end = try #require(page.range(of: "</script>", range: start.upperBound..<page.endIndex))
        let json = page[start.upperBound..<end.lowerBound]
        return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func aPublicGallerysPageCarriesItsFirstDataAsTheAPIAnswersIt() async throws {
        try await withServer { client, setup in
            // A label whose name would close the data block and run a script, were `<` not escaped.
            let hostile = "</script><script>alert(1)</script><!--"
            _ = try await setup.store.createLabel(projectID: "coco-dataset", NewLabel(name: hostile))
            func json(_ uri: String) async throws -> Any {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                    return try JSONSerialization.jsonObject(with: Data(buffer: response.body))
                }
            }
            func page(_ uri: String) async throws -> (html: String, headers: HTTPFields) {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                    return (String(buffer: response.body), response.headers)
                }
            }
            let served = try await page("/p/coco-dataset/d/Default")
            #expect(served.headers[.eTag] == nil && served.headers[.cacheControl] == "no-store")
            #expect(served.headers[.contentLength] == String(served.html.utf8.count))
            #expect(served.html.components(separatedBy: "<script").count == 3, "the module and the data block only")
            #expect(!served.html.contains(hostile) && served.html.contains(#"\u003c/script>\u003cscript>alert(1)"#))
            let boot = try #require(try Self.boot(served.html))
            let datasets = try #require(try await json("/api/v1/projects/coco-dataset/datasets?name=Default") as? [Any])
            let dataset = try #require(datasets.first as? [String: Any])
            #expect(boot["project"] as? String == "coco-dataset")
            #expect((boot["dataset"] as? NSDictionary) == (dataset as NSDictionary))
            let labels = try await json("/api/v1/projects/coco-dataset/labels")
            #expect((boot["labels"] as? NSArray) == (labels as? NSArray))
            #expect(((boot["labels"] as? [[String: Any]]) ?? []).contains { $0["name"] as? String == hostile })
            let snapshots = try await json("/api/v1/datasets/\(setup.dataset.id)/snapshots")
            #expect((boot["snapshots"] as? NSArray) == (snapshots as? NSArray))
            let items = try await json("/api/v1/datasets/\(setup.dataset.id)/items?start=0&end=\(GalleryBoot.firstPage)")
            #expect((boot["items"] as? NSDictionary) == (items as? NSDictionary))
            let first = try #require((boot["items"] as? [String: Any])?["items"] as? [[String: Any]])
            #expect(first.count == min(setup.dataset.count, GalleryBoot.firstPage) && !first.isEmpty)
            // The first thumbnails are preloads, named as the gallery's script asks for them.
            let images = first.prefix(GalleryBoot.preloaded).compactMap { $0["file"] as? [String: Any] }
                .filter { $0["type"] as? String == "image" }.compactMap { $0["id"] as? Int }
            #expect(!images.isEmpty)
            #expect(served.html.components(separatedBy: #"<link rel="preload" as="image""#).count - 1 == images.count)
            for id in images {
                #expect(served.html.contains("/api/v1/files/\(id)/thumbnail?size=256 256w, /api/v1/files/\(id)/thumbnail?size=512 512w"))
            }

            // A slice, a version, a dataset or project that is not there, and a private project:
            // the page alone, its script asks the API (with the user's key, for a private one).
            for uri in ["/p/coco-dataset/d/Default?query=labels.cat%20%3E%200", "/p/coco-dataset/d/Default?version=0",
                "/p/coco-dataset/d/Nope", "/p/nope/d/Default"]
            {
                let plain = try await page(uri)
                #expect(!plain.html.contains(Self.bootOpening), "\(uri)")
                #expect(plain.headers[.eTag] != nil, "\(uri)")
            }
            try await setup.store.setProjectPublic(id: "coco-dataset", isPublic: false)
            #expect(!(try await page("/p/coco-dataset/d/Default")).html.contains(Self.bootOpening))
        }
    }

    @Test func thePageIsOneDocumentUnderAStrictPolicyAndItsFilesAreNamedNotPathed() async throws {
        try await withServer { client, _ in
            for path in ["/", "/p/coco-dataset/d/Default", "/p/coco-dataset/d/Default/items/3", "/p/x/d/y/diff"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                    let policy = try #require(response.headers[.contentSecurityPolicy])
                    #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe"))
                    #expect(String(buffer: response.body).contains("<html") || String(buffer: response.body).contains("<!doctype"))
                }
            }
            let etag = try await client.execute(uri: "/web/index.html", method: .get) { response in
                #expect(response.status == .ok)
                return try #require(response.headers[.eTag])
            }
            try await client.execute(uri: "/web/index.html", method: .get, headers: [.ifNoneMatch: etag]) {
                #expect($0.status == .notModified)
            }
            for path in ["/web/missing.js", "/web/..%2FPackage.swift", "/web/%2e%2e%2fetc%2fpasswd", "/web/.hidden"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .notFound, "\(path)") }
            }
        }
    }
}
