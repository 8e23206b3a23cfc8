import Hummingbird
import SluiceModel
import SluiceStore

/// What `Project(...)` reads when it starts: labels, the label schema, attribute groups.
struct DiffgramProjectRoutes {
    let api: APIContext

    /// Sluice has one label set per project; Diffgram calls it a schema and needs an id.
    static let schemaID = 1

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.get("/v1/project/{project}/labels/view/name_to_file_id") { _, context in
            let project = try await DiffgramRoutes.project(api, context)
            let labels = try await api.store.labels(projectID: project.id)
            var out = JSONOutput()
            out.raw("{\"log\":{\"success\":true},\"name_to_file_id\":")
            out.object(Dictionary(labels.map { ($0.name, JSONValue.number(Double($0.id))) }, uniquingKeysWith: { a, _ in a }))
            out.raw("}")
            return .json(bytes: out.bytes)
        }
        registry.get("/v1/project/{project}/labels-schema") { _, context in
            let project = try await DiffgramRoutes.project(api, context)
            var out = JSONOutput()
            out.raw("[{\"id\":")
            out.integer(Self.schemaID)
            out.raw(",\"name\":\"Default\",\"project_id\":")
            out.string(project.id)
            out.raw("}]")
            return .json(bytes: out.bytes)
        }
        registry.get("/project/{project}/labels") { _, context in
            let project = try await DiffgramRoutes.project(api, context)
            let labels = try await api.store.labels(projectID: project.id)
            var out = JSONOutput()
            out.raw("{\"labels_out\":[")
            for (index, label) in labels.enumerated() {
                if index > 0 { out.raw(UInt8(ascii: ",")) }
                out.raw("{\"id\":")
                out.integer(label.id)
                out.raw(",\"label\":{\"name\":")
                out.string(label.name)
                out.raw("},\"colour\":{\"hex\":")
                out.string(label.color)
                out.raw("}}")
            }
            out.raw("]}")
            return .json(bytes: out.bytes)
        }
        // A POST that only reads: the SDK sends its filters in the body.
        registry.post("/v1/project/{project}/attribute/template/list", access: .read) { _, context in
            let project = try await DiffgramRoutes.project(api, context)
            let groups = try await api.store.attributeGroups(projectID: project.id)
            var out = JSONOutput()
            out.raw("{\"attribute_group_list\":[")
            for (index, group) in groups.enumerated() {
                if index > 0 { out.raw(UInt8(ascii: ",")) }
                out.raw("{\"id\":")
                out.integer(group.id)
                out.raw(",\"name\":")
                out.string(group.name)
                out.raw(",\"prompt\":")
                out.string(group.name)
                out.raw(",\"kind\":")
                out.string(group.kind.rawValue)
                out.raw(",\"attribute_template_list\":[")
                for (optionIndex, option) in group.options.enumerated() {
                    if optionIndex > 0 { out.raw(UInt8(ascii: ",")) }
                    out.raw("{\"name\":")
                    out.string(option)
                    out.raw("}")
                }
                out.raw("]}")
            }
            out.raw("]}")
            return .json(bytes: out.bytes)
        }
    }
}
