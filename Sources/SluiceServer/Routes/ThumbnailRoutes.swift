import Hummingbird
import Foundation
import NIOPosix
import SluiceModel
import SluiceStore
import SluiceThumbnails

/// `GET /files/{id}/thumbnail?size=`: a JPEG of a stored image within size × size, made once by
/// libvips on the blocking pool and then served from disk (`media/thumbnails/{size}/{sha256}.jpg`).
struct ThumbnailRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        let thumbnailer = Thumbnailer(directory: api.store.media.root.appendingPathComponent("thumbnails", isDirectory: true))
        registry.get("/files/{id}/thumbnail") { request, context in
            let size = try Self.size(request)
            let file = try await FileRoutes.file(api.store, context)
            guard let sha = file.media.sha256 else {
                throw APIError.notFound("file \(file.id) has no stored media", code: "no_media")
            }
            guard let type = file.media.mimeType, Self.thumbnailable.contains(type.lowercased()) else {
                throw APIError(
                    .unsupportedMediaType, code: "not_an_image",
                    message: "file \(file.id) is \(file.media.mimeType ?? "of no known type"), not an image to thumbnail")
            }
            let etag = "\"\(sha)-\(Thumbnailer.canonicalSize(size))\""
            let headers: HTTPFields = [
                .eTag: etag, .contentType: "image/jpeg", .cacheControl: "public, max-age=31536000, immutable",
            ]
            if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
                return Response(status: .notModified, headers: headers)
            }
            let source = api.store.media.path(for: sha)
            let bytes: Data
            do {
                bytes = try await NIOThreadPool.singleton.runIfActive {
                    try thumbnailer.thumbnail(sha256: sha, source: source, size: size)
                }
            } catch let error as ThumbnailError {
                if case .undecodable = error {
                    throw APIError(.unsupportedMediaType, code: "not_an_image", message: "file \(file.id): \(error)")
                }
                throw error
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// What libvips is asked to read: the image types media is served as.
    static let thumbnailable = MediaContentType.servable.filter { $0.hasPrefix("image/") }

    /// `size`: the longest side wanted, in pixels; 256 when absent.
    static func size(_ request: Request) throws -> Int {
        guard let text = request.formQuery.get("size") else { return 256 }
        guard let value = Int(text), Thumbnailer.sizes.contains(value) else {
            throw APIError.badParameter(
                "size", "expected a size in pixels from \(Thumbnailer.sizes.lowerBound) to \(Thumbnailer.sizes.upperBound), got '\(text)'")
        }
        return value
    }
}
