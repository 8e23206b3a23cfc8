import Hummingbird
import SluiceModel
import SluiceStore

/// Labels, attribute groups and keys of a project, written through the API: labels and groups
/// by editors, keys and visibility by the project's admins (or a server admin key).
struct LabelRoutes {
    let api: APIContext

    struct CreateLabel: Decodable {
        var name: String
        var color: String?
        var supercategory: String?
        var keypointNames: [String]?
        var skeleton: [[Int]]?
        enum CodingKeys: String, CodingKey {
            case name, color, supercategory, skeleton
            case keypointNames = "keypoint_names"
        }
    }

    struct EditLabel: Decodable {
        var name: String?
        var color: String?
    }

    struct CreateGroup: Decodable {
        var name: String
        var kind: AttributeKind
        var options: [String]?
    }

    struct EditGroup: Decodable {
        var name: String?
        var options: [String]?
    }

    struct CreateKey: Decodable {
        var role: APIKeyRole
    }

    struct EditProject: Decodable {
        var isPublic: Bool
        enum CodingKeys: String, CodingKey { case isPublic = "public" }
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        let store = api.store
        registry.post("/projects/{project}/labels") { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let body = try await request.decodeBody(as: CreateLabel.self, context: context, limits: api.configuration)
            let label = try await store.createLabel(
                projectID: project.id,
                NewLabel(
                    name: body.name, color: body.color, supercategory: body.supercategory,
                    keypointNames: body.keypointNames, skeleton: body.skeleton))
            return try .json(label, status: .created)
        }
        registry.on(.patch, "/projects/{project}/labels/{label}") { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let id = try context.id("label")
            let body = try await request.decodeBody(as: EditLabel.self, context: context, limits: api.configuration)
            guard try await store.labels(projectID: project.id).contains(where: { $0.id == id }) else {
                throw APIError.notFound("no label \(id) in project \(project.id)")
            }
            if let name = body.name { try await store.renameLabel(id: id, to: name) }
            if let color = body.color { _ = try await store.setLabelColor(id: id, projectID: project.id, color: color) }
            guard let label = try await store.labels(projectID: project.id).first(where: { $0.id == id }) else {
                throw APIError.notFound("no label \(id) in project \(project.id)")
            }
            return try .json(label)
        }
        registry.on(.delete, "/projects/{project}/labels/{label}") { _, context in
            let project = try await ProjectRoutes.project(store, context)
            try await store.deleteLabel(id: try context.id("label"), projectID: project.id)
            return Response(status: .noContent)
        }
        registry.post("/projects/{project}/attribute-groups") { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let body = try await request.decodeBody(as: CreateGroup.self, context: context, limits: api.configuration)
            return try .json(
                try await store.createAttributeGroup(
                    projectID: project.id, name: body.name, kind: body.kind, options: body.options ?? []),
                status: .created)
        }
        registry.on(.patch, "/projects/{project}/attribute-groups/{group}") { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let body = try await request.decodeBody(as: EditGroup.self, context: context, limits: api.configuration)
            return try .json(
                try await store.updateAttributeGroup(
                    id: try context.id("group"), projectID: project.id, name: body.name, options: body.options))
        }
        registry.on(.delete, "/projects/{project}/attribute-groups/{group}") { _, context in
            let project = try await ProjectRoutes.project(store, context)
            try await store.deleteAttributeGroup(id: try context.id("group"), projectID: project.id)
            return Response(status: .noContent)
        }
        registry.post("/projects/{project}/keys", access: .admin) { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let body = try await request.decodeBody(as: CreateKey.self, context: context, limits: api.configuration)
            let key = NewAPIKey.generate(projectID: project.id, role: body.role)
            try await store.insertAPIKey(key.stored)
            // The secret exists in clear only in this reply: the store keeps its hash.
            return try .json(
                ["client_id": key.stored.clientID, "role": body.role.rawValue, "key": key.token], status: .created)
        }
        registry.on(.patch, "/projects/{project}", access: .admin) { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let body = try await request.decodeBody(as: EditProject.self, context: context, limits: api.configuration)
            try await store.setProjectPublic(id: project.id, isPublic: body.isPublic)
            return try .json(try await ProjectRoutes.project(store, context))
        }
    }
}
