import Foundation
import Hummingbird
import SluiceModel
import SluiceStore

/// What the gallery of a public dataset reads before its first thumbnail — the dataset, the
/// project's labels, the dataset's snapshots and its first page of items — written into the
/// page it is served in, as the `/api/v1` routes answer them.
///
/// Asked by the page's script, they are three requests in line (the dataset by name, then its
/// items and snapshots) after the scripts load; on a browser and server sharing two cores each
/// costs tens to hundreds of milliseconds, and the first view waited on all of them (docs/
/// benchmarks.md, "The web page's gallery"). Only a public project's data is written: the page is served
/// without a key, and a private one's script asks with the key the user gives it.
///
/// The page also names the first thumbnails as preloads, so that the browser fetches them while
/// its scripts load; the gallery's tiles then find them already there.
struct GalleryBoot {
    /// Positions in the first page: the gallery's own page size (gallery.js `PAGE`).
    static let firstPage = 100
    /// Thumbnails named as preloads: the first positions, which are the top rows of the view on
    /// any window at least 720 px wide (4 columns of 180 px, 2 rows of ~220 px, and the row
    /// below the view that the gallery loads anyway), so none is fetched in vain.
    static let preloaded = 12
    /// The thumbnail sizes the gallery asks for (gallery.js `thumbSize`), and the tile width the
    /// browser picks among them with: 256 at one device pixel per CSS pixel, 512 at two, as the
    /// gallery does for tiles of 180 to 256 px.
    static let thumbnailSizes = [128, 256, 512]
    static let tileWidth = 200

    /// The JSON of the gallery's first data.
    var json: [UInt8]
    /// The files whose thumbnails are preloaded: images among the first positions.
    var thumbnailed: [Int64]

    /// The gallery's first data, or nil when the project is private or missing, or has no such
    /// dataset (the script then asks the API, which says why).
    static func read(store: any Store, project projectID: String, dataset name: String) async throws -> GalleryBoot? {
        guard let project = try await store.project(id: projectID), project.isPublic,
            let dataset = try await store.datasets(projectID: project.id).first(where: { $0.name == name })
        else { return nil }
        async let labels = store.labels(projectID: project.id)
        async let snapshots = store.snapshots(datasetID: dataset.id)
        let range = 0..<min(dataset.count, firstPage)
        let items = try await store.storedItems(datasetID: dataset.id, range: range)
        let encoder = Response.encoder
        var out: [UInt8] = []
        out.reserveCapacity(4096 + items.count * 2048)
        out += #"{"project":"#.utf8
        out += try encoder.encode(project.id)
        out += #","dataset":"#.utf8
        out += try encoder.encode(dataset)
        out += #","labels":"#.utf8
        out += try encoder.encode(try await labels)
        out += #","snapshots":"#.utf8
        out += try encoder.encode(try await snapshots)
        out += #","items":"#.utf8
        out += DatasetRoutes.pageJSON(datasetID: dataset.id, start: 0, count: dataset.count, items: items)
        out += "}".utf8
        // As the gallery decides which tiles have thumbnails (gallery.js `fill`); a video's tile is
        // one of its frames, which only the script knows.
        let thumbnailed = items.prefix(Self.preloaded).filter {
            !$0.isRemoved && $0.file.media.sha256 != nil && ($0.file.type == .image || $0.file.type == .frame)
        }.map(\.file.id)
        return GalleryBoot(json: out, thumbnailed: thumbnailed)
    }

    /// `page` with the preloads and `json` in a data block (`<script type="application/json"
    /// id="sluice-boot">`) before `</head>`. `<` occurs in JSON only inside strings, where
    /// `\u003c` means the same: so no file name or label can close the block and put markup in
    /// the page.
    func page(_ page: [UInt8]) -> [UInt8]? {
        let head = Array("</head>".utf8)
        guard let at = page.firstRange(of: head)?.lowerBound else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(page.count + json.count + json.count / 8 + thumbnailed.count * 300 + 64)
        out += page[..<at]
        for id in thumbnailed {
            // Written as gallery.js asks for it (api.url): the same URL is the same request.
            let candidates = Self.thumbnailSizes.map { "/api/v1/files/\(id)/thumbnail?size=\($0) \($0)w" }
            out += #"<link rel="preload" as="image" fetchpriority="high" imagesrcset=""#.utf8
            out += candidates.joined(separator: ", ").utf8
            out += #"" imagesizes="\#(Self.tileWidth)px">"#.utf8
            out += "\n".utf8
        }
        out += #"<script type="application/json" id="sluice-boot">"#.utf8
        for byte in json {
            if byte == UInt8(ascii: "<") { out += #"\u003c"#.utf8 } else { out.append(byte) }
        }
        out += "</script>\n".utf8
        out += page[at...]
        return out
    }
}
