import Hummingbird
import SluiceModel
import SluiceStore

/// `/projects`: projects, their datasets, labels and attribute groups.
struct ProjectRoutes {
    let api: APIContext

    struct CreateProject: Decodable {
        var id: String
        var name: String?
        var isPublic: Bool?
        enum CodingKeys: String, CodingKey {
            case id, name
            case isPublic = "public"
        }
    }

    struct CreateDataset: Decodable {
        var name: String
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let store = api.store
        let api = self.api
        registry.get("/projects") { request, _ in
            // Private projects are listed only to their own keys: nothing of them is readable without one.
            let key = try await api.verifiedKey(request)
            return try .json(try await store.projects().filter { api.canRead($0, key: key) })
        }
        registry.post("/projects") { request, context in
            let body = try await request.decodeBody(as: CreateProject.self, context: context, limits: api.configuration)
            guard Self.isValidProjectID(body.id) else {
                throw APIError.badParameter("id", "use letters, digits, '-' and '_' (1 to 100 characters)")
            }
            // Only a server admin key creates projects; asking again for an existing one is a
            // write to that project, which its own editor key may do.
            if try await store.project(id: body.id) != nil {
                try await api.authorize(request, projectID: body.id, access: .write)
            } else {
                try await api.requireServerAdmin(request)
            }
            let project = try await store.ensureProject(
                Project(id: body.id, name: body.name ?? body.id, isPublic: body.isPublic ?? true))
            return try .json(project, status: .created)
        }
        registry.get("/projects/{project}") { _, context in
            try .json(try await Self.project(store, context))
        }
        registry.get("/projects/{project}/datasets") { request, context in
            let project = try await Self.project(store, context)
            var datasets = try await store.datasets(projectID: project.id)
            if let name = request.formQuery.get("name") {
                datasets = datasets.filter { $0.name == name }
            }
            return try .json(datasets)
        }
        registry.post("/projects/{project}/datasets") { request, context in
            let project = try await Self.project(store, context)
            let body = try await request.decodeBody(as: CreateDataset.self, context: context, limits: api.configuration)
            guard !body.name.isEmpty else { throw APIError.badParameter("name", "a dataset needs a name") }
            return try .json(try await store.ensureDataset(projectID: project.id, name: body.name), status: .created)
        }
        registry.get("/projects/{project}/labels") { request, context in
            let project = try await Self.project(store, context)
            return try .json(try await store.labels(projectID: project.id, at: try await Self.labelVersion(store, project, request)))
        }
        registry.get("/projects/{project}/attribute-groups") { _, context in
            let project = try await Self.project(store, context)
            return try .json(try await store.attributeGroups(projectID: project.id))
        }
    }

    /// The labels' version `?dataset=ID&version=V` asks for: the names they had when that dataset
    /// was at that version (an export of a pinned version names its labels as they were then).
    static func labelVersion(_ store: any Store, _ project: Project, _ request: Request) async throws -> VersionPoint? {
        let version = request.formQuery.get("version").flatMap { $0.isEmpty ? nil : $0 }
        let datasetText = request.formQuery.get("dataset").flatMap { $0.isEmpty ? nil : $0 }
        guard let version else {
            if datasetText != nil { throw APIError.unprocessableParameter("version", "dataset names whose version: give version too") }
            return nil
        }
        guard let datasetText else { throw APIError.unprocessableParameter("dataset", "a version is a dataset's: give dataset=ID too") }
        guard let id = Int64(datasetText) else { throw APIError.badParameter("dataset", "expected a dataset id, got '\(datasetText)'") }
        guard let dataset = try await store.dataset(id: id), dataset.projectID == project.id else {
            throw APIError.unprocessableParameter("dataset", "project \(project.id) has no dataset with id \(id)")
        }
        return try await store.versionPoint(of: dataset, named: version)
    }

    static func project(_ store: any Store, _ context: SluiceRequestContext) async throws -> Project {
        let id = try context.parameters.require("project")
        guard let project = try await store.project(id: id) else {
            throw APIError.notFound("no project with id '\(id)'")
        }
        return project
    }

    /// ASCII letters, digits, `-` and `_`, 1 to 100 of them (the OpenAPI pattern): an id goes
    /// into URLs and file names as it is.
    static func isValidProjectID(_ id: String) -> Bool {
        (1...100).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default: false
                }
            }
    }
}

