import Hummingbird
import SluiceModel
import SluiceStore

/// The routes the `diffgram` 0.15.0 Python SDK calls, under Diffgram's own paths
/// (`/api/project/{project_string_id}/…`, `/api/v1/project/{project_string_id}/…`), mapped
/// onto the same store, slice cache and authorization step as Sluice's `/api/v1/projects/…`.
/// docs/diffgram-compat.md lists what is supported and what is not.
struct DiffgramRoutes {
    let api: APIContext

    func addRoutes(to router: Router<SluiceRequestContext>) {
        let group = router.group("/api").add(middleware: DiffgramErrorMiddleware())
        var registry = RouteRegistry(group: group, prefix: "/api", api: api)
        DiffgramProjectRoutes(api: api).addRoutes(to: &registry)
        DiffgramDirectoryRoutes(api: api).addRoutes(to: &registry)
        DiffgramFileRoutes(api: api).addRoutes(to: &registry)
        DiffgramWriteRoutes(api: api).addRoutes(to: &registry)
    }

    /// The `{project}` path parameter's project (authorization has already found it).
    static func project(_ api: APIContext, _ context: SluiceRequestContext) async throws -> Project {
        try await ProjectRoutes.project(api.store, context)
    }

    /// A dataset of the project by id; 404 for another project's, so ids cannot be probed
    /// across projects.
    static func dataset(_ api: APIContext, projectID: String, id: Int64) async throws -> Dataset {
        guard let dataset = try await api.store.dataset(id: id), dataset.projectID == projectID else {
            throw APIError.notFound("no directory with id \(id) in project '\(projectID)'")
        }
        return dataset
    }

    /// The project's default directory: the dataset named `Default`, else its first.
    static func defaultDataset(_ api: APIContext, projectID: String) async throws -> Dataset {
        let datasets = try await api.store.datasets(projectID: projectID)
        guard let dataset = datasets.first(where: { $0.name == "Default" }) ?? datasets.first else {
            throw APIError.notFound("project '\(projectID)' has no directory")
        }
        return dataset
    }

    /// The request body as a JSON object (the SDK's bodies are loose: ids as numbers or
    /// strings, nulls for "not given"). Diffgram's bodies are small: the default limits hold them.
    static func body(_ request: Request, _ context: SluiceRequestContext) async throws -> [String: JSONValue] {
        let value = try await request.decodeBody(as: JSONValue.self, context: context, limits: ServerConfiguration())
        guard case .object(let members) = value else {
            throw APIError(.badRequest, code: "bad_body", message: "the request body must be a JSON object")
        }
        return members
    }
}

extension JSONValue {
    /// An integer given as a JSON number or a numeric string (the SDK sends both).
    var integerValue: Int64? {
        switch self {
        case .number(let number): number.rounded() == number ? Int64(exactly: number) : nil
        case .string(let text): Int64(text)
        default: nil
        }
    }
}

/// Adds Diffgram's `log.error` to error bodies: the SDK raises `response.json()["log"]["error"]`
/// on a 400 or 500 (and the text of the body otherwise).
struct DiffgramErrorMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError(error, logger: context.logger)
            apiError.diffgramLog = Self.logText(apiError)
            // Diffgram answers a refused value with 400, and its SDK shows log.error only on a
            // 400 or 500: Sluice's 422 (written right, values that do not fit) is a 400 here.
            if apiError.status == .unprocessableContent { apiError.status = .badRequest }
            throw apiError
        }
    }

    /// The message, with a bad query's column and suggestions, as Sluice's SDKs word them:
    /// the SDK shows only this text.
    static func logText(_ error: APIError) -> String {
        guard case .object(let detail)? = error.detail, let column = detail["column"]?.numberValue else {
            return error.message
        }
        var text = "bad query at column \(Int(column)): \(error.message)"
        if case .array(let suggestions)? = detail["suggestions"], !suggestions.isEmpty {
            text += " (did you mean " + suggestions.compactMap(\.stringValue).map { "'\($0)'" }.joined(separator: ", ") + "?)"
        }
        return text
    }
}
