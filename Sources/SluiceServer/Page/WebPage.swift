import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

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
        for path in ["/", "/p/{project}/d/{dataset}", "/p/{project}/d/{dataset}/items/{position}", "/p/{project}/d/{dataset}/diff"] {
            router.get(RouterPath(path), use: page)
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
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag, .cacheControl: cache,
            .contentSecurityPolicy: contentSecurityPolicy, HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        headers[.contentLength] = String(asset.bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.bytes))
    }
}
