/// What a route does to its project: reading needs a key only for a private project,
/// writing needs an editor key, managing it an admin key.
public enum Access: Sendable, Hashable {
    case read
    case write
    /// Managing the project: its keys and its visibility (an admin key of the project, or
    /// a server admin key).
    case admin
}

/// How to find the project a route belongs to, from its path template.
///
/// Read from the template at registration, so a new route is covered without anyone having
/// to remember: a template that no rule places and that is not known to be project-free
/// stops the server at startup.
enum ProjectScope: Sendable, Hashable {
    /// `{project}`: the project's string id (Sluice's `/projects/…`, Diffgram's `/project/…`).
    case project
    /// `/datasets/{id}…`: the dataset's project.
    case dataset
    /// `/files/{id}…`: the file's project.
    case file
    /// `/slices/{token}…`: the project of the slice's dataset.
    case slice
    /// Routes about no single project: listing and creating projects, the API description.
    case unscoped

    /// Templates (below their prefix) that belong to no project.
    static let projectFree: Set<String> = ["/projects", "/openapi.json"]

    init(template path: String) {
        if path.contains("{project}") {
            self = .project
        } else if path.hasPrefix("/datasets/{id}") {
            self = .dataset
        } else if path.hasPrefix("/files/{id}") {
            self = .file
        } else if path.hasPrefix("/slices/{token}") {
            self = .slice
        } else if Self.projectFree.contains(path) {
            self = .unscoped
        } else {
            // A programmer error caught by every test that builds the router, never input.
            preconditionFailure("route \(path) has no rule placing it in a project (Auth/RouteAccess.swift)")
        }
    }
}
