import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceStore

/// The web page's files: plain HTML, CSS and JavaScript modules from `Sources/SluiceServer/Web`,
/// no build step. Read once at start (they are a few kilobytes) unless a development root is
/// set, which is read on every request so that an edit shows on reload.
struct WebAssets: Sendable {
    struct Asset: Sendable {
        var bytes: ByteBuffer
        var contentType: String
        var etag: String
    }

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json",
    ]

    /// Name → file. Names are the files of one flat directory, so a request can only ever name
    /// one of them: nothing under it is reached by a path.
    var files: [String: Asset]

    static func load(from directory: String) -> WebAssets {
        var files: [String: Asset] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where !name.hasPrefix(".") {
            let ext = (name as NSString).pathExtension.lowercased()
            guard let type = contentTypes[ext],
                let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name))
            else { continue }
            let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
            files[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: type, etag: "\"\(digest)\"")
        }
        return WebAssets(files: files)
    }

    /// Where the build put the page: the resource bundle beside the executable (the server, or
    /// the test runner).
    static var bundledRoot: String {
        Bundle.main.bundleURL.appendingPathComponent("Sluice_SluiceServer.resources/Web", isDirectory: true).path
    }
}

/// `/`, `/p/{project}/d/{dataset}[/items/{position}|/diff]` answer the page (one document; its
/// script routes on the path), `/web/{name}` its files. The page reads the same `/api/v1`
/// routes as every client, with the key the user gives it: these routes hold no data and need
/// no key.
struct WebPageRoutes {
    let root: String?
    /// Read for the gallery's first data (`GalleryBoot`), nothing else.
    let store: any Store

    /// The page runs only its own scripts and styles, and shows images it fetched itself
    /// (`blob:`) or its own.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; "
        + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    func addRoutes(to router: Router<SluiceRequestContext>) {
        let live = root
        let bundled = live == nil ? WebAssets.load(from: WebAssets.bundledRoot) : nil
        let assets: @Sendable () -> WebAssets = { bundled ?? WebAssets.load(from: live ?? WebAssets.bundledRoot) }
        let page: @Sendable (Request, SluiceRequestContext) async throws -> Response = { request, _ in
            try Self.serve("index.html", from: assets(), request: request, cache: "no-cache")
        }
        for path in ["/", "/p/{project}/d/{dataset}/items/{position}", "/p/{project}/d/{dataset}/diff"] {
            router.get(RouterPath(path), use: page)
        }
        let store = self.store
        router.get("/p/{project}/d/{dataset}") { request, context in
            let assets = assets()
            // A slice or a version starts from other requests than the plain gallery's first page.
            let query = request.formQuery
            guard query.get("query") == nil, query.get("version") == nil,
                let html = assets.files["index.html"],
                let project = context.parameters.get("project"), let dataset = context.parameters.get("dataset"),
                // A store that cannot answer now leaves the page to ask the API, which says why.
                let boot = try? await GalleryBoot.read(store: store, project: project, dataset: dataset),
                let bytes = boot.page(Array(buffer: html.bytes))
            else { return try await page(request, context) }
            // Data of this moment: no ETag, never answered from a cache without asking.
            return Response(
                status: .ok,
                headers: Self.headers(contentType: html.contentType, cache: "no-store")
                    .appending(contentLength: bytes.count),
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/web/{name}") { request, context in
            let name = try context.parameters.require("name")
            // Revalidated on each load (a cheap 304): a new server version shows its new page at once.
            return try Self.serve(name, from: assets(), request: request, cache: "no-cache")
        }
    }

    static func serve(_ name: String, from assets: WebAssets, request: Request, cache: String) throws -> Response {
        guard let asset = assets.files[name] else {
            if name == "index.html" {
                throw APIError(
                    .serviceUnavailable, code: "no_web_page",
                    message: "this server was built without its web page (looked in \(WebAssets.bundledRoot))")
            }
            throw APIError.notFound("no web page file named \(name)")
        }
        var headers = headers(contentType: asset.contentType, cache: cache)
        headers[.eTag] = asset.etag
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        return Response(
            status: .ok, headers: headers.appending(contentLength: asset.bytes.readableBytes),
            body: ResponseBody(byteBuffer: asset.bytes))
    }

    static func headers(contentType: String, cache: String) -> HTTPFields {
        [
            .contentType: contentType, .cacheControl: cache,
            .contentSecurityPolicy: contentSecurityPolicy, HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
    }
}

extension HTTPFields {
    fileprivate func appending(contentLength: Int) -> HTTPFields {
        var fields = self
        fields[.contentLength] = String(contentLength)
        return fields
    }
}
