import Foundation
import Hummingbird
import NIOCore
import SluiceModel
import SluiceStore

/// The diffgram SDK's writes: `project.label_new`, `project.file.from_local`, `file.update`,
/// `file.copy` and `project.directory.new`, mapped onto the store's label, append and instance-edit writes (the
/// same calls as Sluice's `/api/v1` write routes). Every route writes, so it needs an editor key.
/// docs/diffgram-compat.md, "Writes", lists what each maps to and what is refused.
///
/// An instance list is turned into drafts and checked whole (shape, geometry, labels) before
/// anything is stored, and the store then writes all of it or nothing: a refused list leaves
/// the file, its annotation and its directory as they were.
struct DiffgramWriteRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.post("/v1/project/{project}/label/new") { request, context in
            try await Self.refusingWith400(context) {
                let project = try await DiffgramRoutes.project(api, context)
                let body = try await DiffgramRoutes.body(request, context)
                guard let name = body["name"]?.stringValue else {
                    throw Self.refusal("name", "a label needs a name")
                }
                if let schema = body["schema_id"], schema != .null,
                    schema.integerValue != Int64(DiffgramProjectRoutes.schemaID)
                {
                    throw Self.refusal("schema_id", "Sluice has one label schema per project, id \(DiffgramProjectRoutes.schemaID)")
                }
                var color: String? = nil
                if case .object(let colour)? = body["colour"] { color = colour["hex"]?.stringValue }
                let label = try await api.store.createLabel(projectID: project.id, NewLabel(name: name, color: color))
                var out = JSONOutput()
                out.raw("{\"log\":{\"success\":true},\"label\":{\"id\":")
                out.integer(label.id)
                out.raw(",\"label\":{\"name\":")
                out.string(label.name)
                out.raw("},\"colour\":{\"hex\":")
                out.string(label.color)
                out.raw("}}}")
                return .json(bytes: out.bytes)
            }
        }
        registry.post("/v1/project/{project}/directory/new") { request, context in
            try await Self.refusingWith400(context) {
                let project = try await DiffgramRoutes.project(api, context)
                let body = try await DiffgramRoutes.body(request, context)
                guard let name = body["nickname"]?.stringValue, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw Self.refusal("nickname", "a directory needs a name")
                }
                if let access = body["access_type"]?.stringValue, access != "project" {
                    throw Self.refusal("access_type", "Sluice directories are readable by the whole project ('project'), not '\(access)'")
                }
                // The SDK checks names only against the directories it has listed; Sluice's
                // `ensureDataset` would hand back an existing one, so the name is checked here.
                if try await api.store.dataset(projectID: project.id, name: name) != nil {
                    throw StoreError.conflict("project \(project.id) already has a directory named '\(name)'")
                }
                let created = try await api.store.ensureDataset(projectID: project.id, name: name)
                let datasets = try await api.store.datasets(projectID: project.id)
                var out = JSONOutput()
                // The SDK rebuilds its directory list from `project.directory_list` and picks the
                // new one out of it by name.
                out.raw("{\"log\":{\"success\":true},\"new_directory\":")
                out.diffgramDirectory(created)
                out.raw(",\"project\":{\"directory_list\":[")
                for (index, dataset) in datasets.enumerated() {
                    if index > 0 { out.raw(UInt8(ascii: ",")) }
                    out.diffgramDirectory(dataset)
                }
                out.raw("]}}")
                return .json(bytes: out.bytes)
            }
        }
        registry.post("/walrus/v1/project/{project}/input/from_local") { request, context in
            try await Self.refusingWith400(context) {
                try await Self.fromLocal(api, request, context)
            }
        }
        registry.post("/v1/project/{project}/file/transfer") { request, context in
            try await Self.refusingWith400(context) {
                try await Self.transfer(api, request, context)
            }
        }
        registry.post("/walrus/v1/project/{project}/input/packet") { request, context in
            try await Self.refusingWith400(context) {
                try await Self.packet(api, request, context)
            }
        }
    }

    /// `file.from_local`: a multipart body with the image as `file`, then the options as a
    /// `json` part (`directory_id`, `instance_list`). The image streams to a staging file as
    /// it arrives (MediaRoutes' upload); it reaches the media store only once the options
    /// are checked, and the file and its instances are one `appendFiles`.
    static func fromLocal(_ api: APIContext, _ request: Request, _ context: SluiceRequestContext) async throws
        -> Response
    {
        let project = try await DiffgramRoutes.project(api, context)
        guard let boundary = MediaRoutes.boundary(request.headers[.contentType]) else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "input/from_local takes multipart/form-data with a 'file' part and a 'json' part")
        }
        let form = FormPart(boundary: boundary, keepingFields: ["json"], fieldLimit: api.configuration.maxJSONBodyBytes)
        var upload = try api.store.media.beginUpload()
        let dataset: Dataset
        let instances: [InstanceDraft]
        do {
            for try await chunk in request.body {
                for bytes in try form.fileBytes(in: chunk) {
                    try await MediaRoutes.write(ByteBuffer(bytes: bytes), to: &upload, limit: api.configuration.maxMediaBytes)
                }
            }
            guard form.sawFile else {
                throw APIError(.badRequest, code: "bad_body", message: "the form has no 'file' part")
            }
            let options = try Self.jsonObject(form.fields["json"] ?? Array("{}".utf8), part: "json", limits: api.configuration)
            try Self.refuseUnsupported(options, ["frame_packet_map": "video frames", "parent_file_id": "compound files"])
            dataset = try await Self.directory(api, projectID: project.id, id: options["directory_id"])
            instances = try await Self.drafts(api, projectID: project.id, options["instance_list"])
        } catch {
            upload.discard()
            throw error
        }
        let media = try await MediaRoutes.finish(upload, expecting: nil)
        let name = form.fileName.flatMap { $0.isEmpty ? nil : $0 } ?? media.sha256
        let appended = try await api.store.appendFiles(
            datasetID: dataset.id, [FileDraft(name: name, sha256: media.sha256, instances: instances)], createLabels: false)
        return try await Self.reply(api, request, project: project, fileID: appended[0].file.id, directoryID: dataset.id)
    }

    /// `file.update` (and every other `from_packet`): only packets that name an existing file,
    /// in mode `update` (its instances added) or `update_with_existing` (the SDK's
    /// `overwrite=True`: they replace the whole annotation), as one `editInstances`.
    static func packet(_ api: APIContext, _ request: Request, _ context: SluiceRequestContext) async throws -> Response {
        let project = try await DiffgramRoutes.project(api, context)
        let packet = try await request.decodeBody(as: [String: JSONValue].self, context: context, limits: api.configuration)
        guard let fileID = packet["file_id"]?.integerValue else {
            throw APIError(
                .badRequest, code: "unsupported",
                message: "packets without a file_id (from_url, from_packet, from_blob_path) are not supported: "
                    + "upload with project.file.from_local, or import with `sluice import`")
        }
        try Self.refuseUnsupported(packet, ["frame_packet_map": "video frames", "job_id": "jobs"])
        guard let file = try await api.store.file(id: fileID), file.projectID == project.id else {
            throw APIError.notFound("no file with id \(fileID) in project '\(project.id)'")
        }
        let drafts = try await Self.drafts(api, projectID: project.id, packet["instance_list"])
        let edit: InstanceEdit
        switch packet["mode"]?.stringValue {
        case "update": edit = .add(drafts)
        case "update_with_existing": edit = .replaceAll(drafts)
        default:
            throw Self.refusal("mode", "expected 'update' (add instances) or 'update_with_existing' (replace them)")
        }
        if edit != .add([]) {
            _ = try await api.store.editInstances(fileID: file.id, edit, expectedRevision: nil, createLabels: false)
        }
        return try await Self.reply(api, request, project: project, fileID: file.id, directoryID: nil)
    }

    /// `file.copy(destination_dir, copy_instances=)`: Diffgram's copy is a new file on the same
    /// media, with the annotation copied when `copy_instances` (an independent copy: editing one
    /// leaves the other), appended to the destination directory. The reply's
    /// `log.info.new_file[0]` is what the SDK makes its `File` of.
    static func transfer(_ api: APIContext, _ request: Request, _ context: SluiceRequestContext) async throws -> Response {
        let project = try await DiffgramRoutes.project(api, context)
        let body = try await request.decodeBody(as: [String: JSONValue].self, context: context, limits: api.configuration)
        guard body["transfer_action"]?.stringValue == "copy" else {
            throw Self.refusal("transfer_action", "only 'copy' is supported (Sluice's own API moves files between datasets)")
        }
        guard let destinationID = body["destination_directory_id"]?.integerValue else {
            throw Self.refusal("destination_directory_id", "names the directory to copy into")
        }
        let destination = try await DiffgramRoutes.dataset(api, projectID: project.id, id: destinationID)
        guard case .array(let list)? = body["file_list"], !list.isEmpty else {
            throw Self.refusal("file_list", "lists the files to copy: [{\"id\": …}]")
        }
        let copyInstances = body["copy_instances"] == .bool(true)
        var drafts: [FileDraft] = []
        for (index, element) in list.enumerated() {
            guard case .object(let entry) = element, let id = entry["id"]?.integerValue,
                let source = try await api.store.annotatedFile(id: id), source.file.projectID == project.id,
                let sha = source.file.media.sha256
            else { throw Self.refusal("file_list[\(index)].id", "is no file of project \(project.id) with media") }
            drafts.append(
                FileDraft(
                    name: source.file.name, sha256: sha, type: source.file.type, metadata: source.file.metadata,
                    status: source.file.status, instances: copyInstances ? source.instances.map(InstanceDraft.init) : []))
        }
        let appended = try await api.store.appendFiles(datasetID: destination.id, drafts, createLabels: false)
        let media = try await DiffgramMediaURL(api, request, project: project)
        var out = JSONOutput(capacity: 4096)
        out.raw("{\"log\":{\"success\":true,\"info\":{\"new_file\":[")
        for (index, landed) in appended.enumerated() {
            if index > 0 { out.raw(UInt8(ascii: ",")) }
            let item = try await DiffgramFileRoutes.item(
                api, projectID: project.id, fileID: landed.file.id, preferring: destination.id)
            try out.diffgramFile(item.file, mediaURL: media.url(for: item.file), instances: item.instances)
        }
        out.raw("]}}}")
        return .json(bytes: out.bytes)
    }

    /// `{"log": {"success": true}, "file": …}`: the file as the read routes serialise it, with
    /// its instances (the SDK builds a `File` from `file`, and needs its `id` for `update`).
    static func reply(_ api: APIContext, _ request: Request, project: Project, fileID: Int64, directoryID: Int64?)
        async throws -> Response
    {
        let item = try await DiffgramFileRoutes.item(api, projectID: project.id, fileID: fileID, preferring: directoryID)
        let media = try await DiffgramMediaURL(api, request, project: project)
        var out = JSONOutput(capacity: 4096)
        out.raw("{\"log\":{\"success\":true},\"file\":")
        try out.diffgramFile(item.file, mediaURL: media.url(for: item.file), instances: item.instances)
        out.raw("}")
        return .json(bytes: out.bytes)
    }

    /// The directory `id` names, or the project's default directory when it is absent or null.
    static func directory(_ api: APIContext, projectID: String, id: JSONValue?) async throws -> Dataset {
        guard let id, id != .null else { return try await DiffgramRoutes.defaultDataset(api, projectID: projectID) }
        guard let datasetID = id.integerValue else { throw Self.refusal("directory_id", "expected a directory id") }
        return try await DiffgramRoutes.dataset(api, projectID: projectID, id: datasetID)
    }

    // MARK: Instances

    /// Diffgram's instance dicts as Sluice drafts, each checked on its own (as the store checks
    /// it) with its label looked up among the project's, so that a bad list is refused, with
    /// the path of the field at fault, before any byte is stored. Null or absent is no instance.
    ///
    /// `label_file_id` is a Sluice label id (what `name_to_file_id` serves); without it, `name`
    /// names the label.
    static func drafts(_ api: APIContext, projectID: String, _ list: JSONValue?) async throws -> [InstanceDraft] {
        guard let list, list != .null else { return [] }
        guard case .array(let elements) = list else { throw Self.refusal("instance_list", "must be a list of instances") }
        if elements.isEmpty { return [] }
        let labels = try await api.store.labels(projectID: projectID)
        let byID = Dictionary(labels.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let byName = Dictionary(labels.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return try elements.enumerated().map { index, element in
            let path = "instance_list[\(index)]"
            guard case .object(let fields) = element else {
                if element == .null {
                    // diffgram 0.15.0's convert_label returns None for an instance that already
                    // has a label_file_id, and from_local/update send that None.
                    throw Self.refusal(
                        path,
                        "null, as the diffgram SDK sends an instance that already has a label_file_id; "
                            + "name its label with 'name' only, or pass convert_names_to_label_files=False")
                }
                throw Self.refusal(path, "must be an instance object")
            }
            let label: Label
            if let id = fields["label_file_id"], id != .null {
                guard let found = id.integerValue.flatMap({ byID[$0] }) else {
                    throw Self.refusal("\(path).label_file_id", "is no label of project \(projectID)")
                }
                label = found
            } else if let name = fields["name"]?.stringValue {
                guard let found = byName[name] else {
                    throw Self.refusal("\(path).name", "project \(projectID) has no label '\(name)' (create it with label_new)")
                }
                label = found
            } else {
                throw Self.refusal(path, "needs a label: label_file_id or name")
            }
            let draft = try Self.draft(fields, labelID: label.id, at: path)
            do {
                try draft.validate(at: path, keypointNames: label.keypointNames, imageSize: nil)
            } catch let error as FieldError {
                throw StoreError.invalidField(error)
            }
            return draft
        }
    }

    /// One instance dict as a draft of the kind its `type` maps to: `box` (`x_min`…), `polygon`
    /// (`points`, one ring), `point` and `line` (`points`), `tag` and `global` (the file's).
    static func draft(_ fields: [String: JSONValue], labelID: Int64, at path: String) throws -> InstanceDraft {
        guard let type = fields["type"]?.stringValue else {
            throw Self.refusal("\(path).type", "needs a type: box, polygon, point, line, tag or global")
        }
        func points() throws -> [Point] {
            guard case .array(let values)? = fields["points"] else {
                throw Self.refusal("\(path).points", "a \(type) needs points: [{x, y}, …]")
            }
            return try values.enumerated().map { index, value in
                guard case .object(let point) = value, let x = point["x"]?.numberValue, let y = point["y"]?.numberValue else {
                    throw Self.refusal("\(path).points[\(index)]", "expected {x, y} with numbers")
                }
                return Point(x: x, y: y)
            }
        }
        switch type {
        case "box":
            let corners = try ["x_min", "y_min", "x_max", "y_max"].map { key in
                guard let value = fields[key]?.numberValue else {
                    throw Self.refusal("\(path).\(key)", "a box needs x_min, y_min, x_max and y_max as numbers")
                }
                return value
            }
            return InstanceDraft(
                labelID: labelID, kind: .box,
                bbox: BoundingBox(xMin: corners[0], yMin: corners[1], xMax: corners[2], yMax: corners[3]))
        case "polygon":
            // The store takes the box from the outline.
            return InstanceDraft(
                labelID: labelID, kind: .polygon, geometry: Geometry(polygon: [try points().flatMap { [$0.x, $0.y] }]))
        case "point":
            return InstanceDraft(labelID: labelID, kind: .point, geometry: Geometry(points: try points()))
        case "line":
            return InstanceDraft(labelID: labelID, kind: .line, geometry: Geometry(line: try points()))
        case "tag", "global":
            return InstanceDraft(labelID: labelID, kind: .global)
        default:
            throw Self.refusal(
                "\(path).type", "'\(type)' is not supported by Sluice's Diffgram routes: box, polygon, point, line, tag or global")
        }
    }

    // MARK: Refusals

    /// Runs a write with its refusals answered 400, as Diffgram answers them: the SDK raises
    /// the `log.error` of a 400 (or 500) but only the bare status of a 409, 413, 415 or 422.
    /// The body keeps Sluice's error code and detail (`invalid`, `conflict`, the field at fault).
    static func refusingWith400(_ context: SluiceRequestContext, _ write: () async throws -> Response) async throws
        -> Response
    {
        do {
            return try await write()
        } catch {
            var refusal = APIError(error, logger: context.logger)
            if [409, 413, 415, 422].contains(refusal.status.code) { refusal.status = .badRequest }
            throw refusal
        }
    }

    static func refusal(_ path: String, _ message: String) -> StoreError {
        .invalidField(FieldError(path: path, message: message))
    }

    /// Refuses the members of `body` that are given (not null) and that Sluice has no place for.
    static func refuseUnsupported(_ body: [String: JSONValue], _ members: KeyValuePairs<String, String>) throws {
        for (key, what) in members where body[key] != nil && body[key] != .null {
            throw Self.refusal(key, "\(what) are not supported by Sluice's Diffgram routes")
        }
    }

    /// A JSON object sent as a form part, held to the same depth limit as a JSON body.
    static func jsonObject(_ bytes: [UInt8], part: String, limits: ServerConfiguration) throws -> [String: JSONValue] {
        if let offset = JSONDepth.exceeding(limits.maxJSONDepth, in: bytes) {
            throw APIError(
                .badRequest, code: "bad_body",
                message: "the '\(part)' part nests deeper than \(limits.maxJSONDepth) levels (at byte \(offset))")
        }
        do {
            return try JSONDecoder().decode([String: JSONValue].self, from: Data(bytes))
        } catch {
            throw APIError(.badRequest, code: "bad_body", message: "the '\(part)' part is not a JSON object: \(error)")
        }
    }
}
