import Hummingbird
import Foundation
import NIOPosix
import SluiceModel
import SluiceStore
import SluiceThumbnails

/// `GET /files/{id}/thumbnail?size=[&frame=]`: a JPEG of a stored image (or of one frame of a
/// stored video) within size × size, made once by libvips (and ffmpeg, for a video's frame) on
/// the blocking pool and then served from disk (`media/thumbnails/{size}/{sha256}[-f{frame}].jpg`).
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
            let frame = try Self.frame(request)
            let type = file.media.mimeType?.lowercased() ?? ""
            let video = Self.videos.contains(type)
            guard video || Self.thumbnailable.contains(type) else {
                throw APIError(
                    .unsupportedMediaType, code: "not_an_image",
                    message: "file \(file.id) is \(file.media.mimeType ?? "of no known type"), not an image or video to thumbnail")
            }
            // An image has one frame: `frame` is for videos and an image ignores it.
            let shown = video ? frame ?? 0 : nil
            if let shown, let count = file.media.frameCount, shown >= count {
                throw APIError.unprocessableParameter("frame", "file \(file.id) has \(count) frames (0 to \(count - 1)), not frame \(shown)")
            }
            let etag = "\"\(sha)\(shown.map { "-f\($0)" } ?? "")-\(Thumbnailer.canonicalSize(size))\""
            let headers: HTTPFields = [
                .eTag: etag, .contentType: "image/jpeg", .cacheControl: "public, max-age=31536000, immutable",
            ]
            if let match = request.headers[.ifNoneMatch], match == etag || match == "*" {
                return Response(status: .notModified, headers: headers)
            }
            let source = api.store.media.path(for: sha)
            let frameRate = file.media.frameRate ?? 0
            if shown != nil, !(frameRate > 0) {
                throw APIError(.unsupportedMediaType, code: "not_an_image", message: "file \(file.id) is a video with no known frame rate")
            }
            let bytes: Data
            do {
                bytes = try await NIOThreadPool.singleton.runIfActive {
                    if let shown {
                        try thumbnailer.thumbnail(sha256: sha, source: source, frame: shown, frameRate: frameRate, size: size)
                    } else {
                        try thumbnailer.thumbnail(sha256: sha, source: source, size: size)
                    }
                }
            } catch let error as ThumbnailError {
                switch error {
                case .undecodable: throw APIError(.unsupportedMediaType, code: "not_an_image", message: "file \(file.id): \(error)")
                case .unavailable: throw APIError(.serviceUnavailable, code: "thumbnailer_unavailable", message: "\(error)")
                }
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    /// What libvips is asked to read: the image types media is served as.
    static let thumbnailable = MediaContentType.servable.filter { $0.hasPrefix("image/") }
    /// Videos, whose frames ffmpeg decodes.
    static let videos = MediaContentType.servable.filter { $0.hasPrefix("video/") }
    /// The largest frame number a request may name: what the CVAT importer accepts.
    static let frames = 0...10_000_000

    /// `size`: the longest side wanted, in pixels; 256 when absent.
    static func size(_ request: Request) throws -> Int {
        guard let text = request.formQuery.get("size") else { return 256 }
        guard let value = Int(text), Thumbnailer.sizes.contains(value) else {
            throw APIError.badParameter(
                "size", "expected a size in pixels from \(Thumbnailer.sizes.lowerBound) to \(Thumbnailer.sizes.upperBound), got '\(text)'")
        }
        return value
    }

    /// `frame`: the frame of a video to show; absent means 0 for a video.
    static func frame(_ request: Request) throws -> Int? {
        guard let text = request.formQuery.get("frame") else { return nil }
        guard let value = Int(text), frames.contains(value) else {
            throw APIError.badParameter("frame", "expected a frame number from 0 to \(frames.upperBound), got '\(text)'")
        }
        return value
    }
}
