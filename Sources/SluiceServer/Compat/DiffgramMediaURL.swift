import HTTPTypes
import Hummingbird
import SluiceModel
import SluiceStore

/// The absolute media URL the SDK downloads an image from (`image.url_signed`): Sluice's own
/// media route, signed with the request's key when the project is private, since the SDK
/// fetches it with `imageio.imread(url)` and no credentials.
struct DiffgramMediaURL {
    let base: String
    let key: StoredAPIKey?
    let isPublic: Bool

    init(_ api: APIContext, _ request: Request, project: Project) async throws {
        // The host the client reached us by, so the URL works through the same route.
        let authority = request.head.authority ?? "\(api.configuration.host):\(api.configuration.port)"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
        base = "\(scheme)://\(authority)"
        key = try await api.verifiedKey(request)
        isPublic = project.isPublic
    }

    func url(for file: StoredFile) -> String? {
        guard file.media.sha256 != nil else { return nil }
        let path = "/api/v1/files/\(file.id)/media"
        if isPublic { return base + path }
        // Authorization let the request through, so a private project's request has a key.
        guard let key else { return nil }
        return base + MediaURLSigner.sign(path: path, key: key)
    }
}
