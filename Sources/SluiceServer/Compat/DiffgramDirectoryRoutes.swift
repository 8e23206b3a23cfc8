import Hummingbird
import SluiceModel
import SluiceStore

/// Directories (Sluice's datasets) and their file lists: `directory.get(name=)`, `len()`,
/// `slice(query)` and the id lists that iteration, `to_pytorch()` and `to_tensorflow()` walk.
struct DiffgramDirectoryRoutes {
    let api: APIContext

    /// Smallest page of an `ids_only` list. The SDK fetches pages after the first without the
    /// query (`all_file_ids` passes `query=None` positionally), so a slice longer than a page
    /// would come back wrong; pages this large keep real slices to one page.
    static let minimumIDsPage = 1_000_000

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.get("/project/{project}/user/legacy/working_dir/view") { request, context in
            let project = try await DiffgramRoutes.project(api, context)
            let dataset: Dataset
            if let name = request.formQuery.get("name") {
                guard let named = try await api.store.dataset(projectID: project.id, name: name) else {
                    throw APIError.notFound("no directory named '\(name)' in project '\(project.id)'")
                }
                dataset = named
            } else {
                dataset = try await DiffgramRoutes.defaultDataset(api, projectID: project.id)
            }
            var out = JSONOutput()
            out.raw("{\"working_dir\":")
            out.diffgramDirectory(dataset)
            out.raw("}")
            return .json(bytes: out.bytes)
        }
        registry.post("/v1/project/{project}/directory/list", access: .read) { _, context in
            let project = try await DiffgramRoutes.project(api, context)
            let datasets = try await api.store.datasets(projectID: project.id)
            var out = JSONOutput()
            out.raw("{\"directory_list\":[")
            for (index, dataset) in datasets.enumerated() {
                if index > 0 { out.raw(UInt8(ascii: ",")) }
                out.diffgramDirectory(dataset)
            }
            out.raw("],\"default_directory\":")
            if let first = datasets.first(where: { $0.name == "Default" }) ?? datasets.first {
                out.diffgramDirectory(first)
            } else {
                out.null()
            }
            out.raw("}")
            return .json(bytes: out.bytes)
        }
        registry.post("/project/{project}/user/sdk/file/list", access: .read) { request, context in
            try await Self.fileList(api, request, context)
        }
    }

    /// `list_files`: a page of a directory, or of a query over it, as file ids or file objects.
    static func fileList(_ api: APIContext, _ request: Request, _ context: SluiceRequestContext) async throws
        -> Response
    {
        let project = try await DiffgramRoutes.project(api, context)
        let body = try await DiffgramRoutes.body(request, context)
        guard case .object(let metadata)? = body["metadata"] else {
            throw APIError(.badRequest, code: "bad_body", message: "the request body needs 'metadata'")
        }
        let dataset =
            if let id = metadata["directory_id"]?.integerValue {
                try await DiffgramRoutes.dataset(api, projectID: project.id, id: id)
            } else {
                try await DiffgramRoutes.defaultDataset(api, projectID: project.id)
            }
        let idsOnly = metadata["file_view_mode"]?.stringValue == "ids_only"
        let limit = Int(metadata["limit"]?.integerValue ?? 100)
        let page = max(1, Int(metadata["page"]?.integerValue ?? 1))
        let pageSize =
            idsOnly ? max(limit, minimumIDsPage) : min(max(limit, 1), api.configuration.maxPageSize)

        // A query is a Sluice slice: same parser, checker, cache and materialised positions.
        var slicePositions: [Int]? = nil
        if let query = metadata["query"]?.stringValue, !query.trimmingCharacters(in: .whitespaces).isEmpty {
            slicePositions = try await SliceRoutes.resolve(api, dataset: dataset, query: query).positions
        } else if dataset.removedCount > 0 {
            // Diffgram's directories list the files they hold: removed positions are left out,
            // through the slice of every file (a query every file matches, cached per version).
            slicePositions = try await SliceRoutes.resolve(api, dataset: dataset, query: "labels.any >= 0").positions
        }
        let count = slicePositions?.count ?? dataset.count
        // No product or sum of a stranger's page and limit (up to Int64.max) is formed: a page
        // past the end starts at count.
        let start = page - 1 > count / pageSize ? count : min((page - 1) * pageSize, count)
        let end = start + min(pageSize, count - start)
        let totalPages = max(1, divideRoundingUp(count, pageSize))

        var out = JSONOutput(capacity: 1024 + (end - start) * (idsOnly ? 8 : 512))
        out.raw("{\"file_list\":[")
        if idsOnly {
            let ids =
                if let slicePositions {
                    try await api.store.fileIDs(datasetID: dataset.id, positions: Array(slicePositions[start..<end]))
                } else {
                    try await api.store.fileIDs(datasetID: dataset.id, range: start..<end)
                }
            for (index, id) in ids.enumerated() {
                if index > 0 { out.raw(UInt8(ascii: ",")) }
                out.integer(id)
            }
        } else {
            let items =
                if let slicePositions {
                    try await api.store.storedItems(datasetID: dataset.id, positions: Array(slicePositions[start..<end]))
                } else {
                    try await api.store.storedItems(datasetID: dataset.id, range: start..<end)
                }
            let media = try await DiffgramMediaURL(api, request, project: project)
            for (index, item) in items.enumerated() {
                if index > 0 { out.raw(UInt8(ascii: ",")) }
                try out.diffgramFile(item.file, mediaURL: media.url(for: item.file), instances: nil)
            }
        }
        out.raw("],\"metadata\":{\"page\":")
        out.integer(page)
        out.raw(",\"limit\":")
        out.integer(pageSize)
        out.raw(",\"file_count\":")
        out.integer(count)
        out.raw(",\"total_pages\":")
        out.integer(totalPages)
        out.raw(",\"next_page\":")
        if page < totalPages { out.integer(page + 1) } else { out.null() }
        out.raw(",\"directory_id\":")
        out.integer(dataset.id)
        out.raw("}}")
        return .json(bytes: out.bytes)
    }
}
