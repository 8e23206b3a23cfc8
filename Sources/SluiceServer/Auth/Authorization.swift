import Hummingbird
import SluiceModel
import SluiceStore

/// The one authorization step: `RouteRegistry` runs it before every handler it registers,
/// Sluice's and the Diffgram-compatible ones alike.
///
/// Rules (DESIGN.md "HTTP API"): a public project reads without a key; a private project
/// answers 401 without a key and 403 to a key of another project; writes need an editor key
/// of the project (401 without one, 403 with a viewer's or another project's). A key that is
/// presented must be valid wherever it is presented (401 `invalid_key`), so a typo is never
/// silently read as "anonymous".
extension APIContext {
    func authorize(_ request: Request, _ context: SluiceRequestContext, scope: ProjectScope, access: Access)
        async throws
    {
        guard let projectID = try await projectID(of: scope, context) else {
            // No project to protect, but a key that is presented must still be valid.
            _ = try await verifiedKey(request)
            return
        }
        try await authorize(request, projectID: projectID, access: access)
    }

    /// The step for a project named elsewhere than the path (a request body).
    func authorize(_ request: Request, projectID: String, access: Access) async throws {
        let key = try await verifiedKey(request)
        guard let project = try await store.project(id: projectID) else {
            throw APIError.notFound("no project with id '\(projectID)'")
        }
        guard let key else {
            if access == .read && project.isPublic { return }
            let message =
                switch access {
                case .read: "project '\(project.id)' is private: send an API key of the project"
                case .write: "writing to project '\(project.id)' needs an API key with the editor role"
                case .admin: "managing project '\(project.id)' needs an API key with the admin role"
                }
            throw AuthError.unauthorized(message)
        }
        // A server admin key may do anything to any project.
        if key.isServerAdmin { return }
        guard key.projectID == project.id else {
            if access == .read && project.isPublic { return }
            throw AuthError.forbidden("the API key \(key.clientID) belongs to another project, not '\(project.id)'")
        }
        let needed: APIKeyRole =
            switch access {
            case .read: .viewer
            case .write: .editor
            case .admin: .admin
            }
        guard key.role >= needed else {
            throw AuthError.forbidden("the API key \(key.clientID) is a \(key.role.rawValue); this needs \(needed.rawValue)")
        }
    }

    /// A server admin key, or 401/403: for creating projects, which belong to nobody yet.
    func requireServerAdmin(_ request: Request) async throws {
        guard let key = try await verifiedKey(request) else {
            throw AuthError.unauthorized("creating a project needs a server admin key (sluice keys create --server-admin)")
        }
        guard key.isServerAdmin else {
            throw AuthError.forbidden("the API key \(key.clientID) is a project key; creating a project needs a server admin key")
        }
    }

    /// The key the request presents, checked; nil when it presents none. 401 for an unknown
    /// client id, a wrong secret, or a signed URL that is expired, forged or for another path.
    func verifiedKey(_ request: Request) async throws -> StoredAPIKey? {
        switch try Credential(request: request) {
        case .anonymous:
            return nil
        case .key(let clientID, let secret):
            // An unknown client id and a wrong secret get the same answer: which ids exist is
            // not for a guesser to learn.
            guard let key = try await store.apiKey(clientID: clientID), key.matches(secret: secret) else {
                throw AuthError.invalidKey("the API key is not valid")
            }
            return key
        case .signedURL(let clientID, let expires, let signature):
            guard let key = try await store.apiKey(clientID: clientID),
                MediaURLSigner.isValid(
                    signature: signature, path: request.uri.path, expires: expires, key: key,
                    method: request.method)
            else {
                throw AuthError.invalidKey("the signed URL is not valid or has expired")
            }
            return key
        }
    }

    /// The project a route's request is about; nil for project-free routes. Unknown
    /// datasets, files and slices are 404 here, with the handlers' own messages.
    private func projectID(of scope: ProjectScope, _ context: SluiceRequestContext) async throws -> String? {
        switch scope {
        case .unscoped: return nil
        case .project: return try context.parameters.require("project")
        case .dataset: return try await DatasetRoutes.dataset(store, context).projectID
        case .file: return try await FileRoutes.file(store, context).projectID
        case .slice: return try await SliceRoutes.tokenAndDataset(self, context).1.projectID
        }
    }

    /// Whether the request may read `project`, without failing: for listings.
    func canRead(_ project: Project, key: StoredAPIKey?) -> Bool {
        project.isPublic || key?.projectID == project.id || key?.isServerAdmin == true
    }
}
