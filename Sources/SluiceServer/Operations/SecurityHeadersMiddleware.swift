import Hummingbird

/// Headers every response carries: browsers must not guess a type other than the one sent
/// (`nosniff`), and media bytes, which strangers upload, run nothing if opened as a page.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if let type = response.headers[.contentType], MediaContentType.isMedia(type) {
            response.headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
        }
        return response
    }
}

/// The `Content-Type` media bytes are served with: the sniffed type when it is one Sluice
/// stores and a browser shows inertly, else `application/octet-stream` (an SVG or HTML file
/// never reaches a browser as something that runs scripts).
enum MediaContentType {
    static let servable: Set<String> = [
        "image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp", "image/tiff",
        "video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "text/plain; charset=utf-8",
    ]

    static func served(_ mimeType: String?) -> String {
        guard let mimeType, servable.contains(mimeType.lowercased()) else { return "application/octet-stream" }
        return mimeType
    }

    static func isMedia(_ contentType: String) -> Bool {
        servable.contains(contentType.lowercased()) || contentType == "application/octet-stream"
    }
}
