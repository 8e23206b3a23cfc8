import HTTPTypes
import Hummingbird
import NIOCore
import SluiceModel
import SluiceStore

/// `/datasets/{id}/snapshots` and `/datasets/{id}/diff`: named pins of dataset versions, and
/// the differences between two versions, streamed.
struct VersionRoutes {
    let api: APIContext

    struct CreateSnapshot: Decodable {
        var name: String
    }

    /// Positions compared per store read of a diff.
    static let diffPage = 4096

    func addRoutes(to registry: inout RouteRegistry) {
        let store = api.store
        registry.post("/datasets/{id}/snapshots") { request, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let body = try await request.decodeBody(as: CreateSnapshot.self, context: context, limits: api.configuration)
            return try .json(try await store.createSnapshot(datasetID: dataset.id, name: body.name), status: .created)
        }
        registry.get("/datasets/{id}/snapshots") { _, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            return try .json(try await store.snapshots(datasetID: dataset.id))
        }
        registry.get("/datasets/{id}/diff") { request, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            // Version 0 is the dataset when it was created, empty: the default diff lists everything.
            let from = try await store.versionPoint(of: dataset, named: String(request.formQuery.get("from") ?? "0"))
            let toText = request.formQuery.get("to").map { String($0) } ?? String(dataset.version)
            let to = try await store.versionPoint(of: dataset, named: toText)
            let end = max(from.count, to.count)
            return Response(
                status: .ok,
                headers: [.contentType: "application/x-ndjson", .sluiceVersion: "\(from.version)..\(to.version)"],
                body: ResponseBody { writer in
                    // A page of positions at a time: memory is one page's entries, whatever the diff's size.
                    for start in stride(from: 0, to: end, by: Self.diffPage) {
                        let entries = try await store.differences(from: from, to: to, positions: start..<(start + Self.diffPage))
                        guard !entries.isEmpty else { continue }
                        var out = JSONOutput(capacity: entries.count * 64)
                        for entry in entries {
                            out.raw("{\"kind\":\"")
                            out.raw(entry.kind.rawValue)
                            out.raw("\",\"position\":")
                            out.integer(entry.position)
                            out.raw(",\"file_id\":")
                            out.integer(entry.fileID)
                            if let id = entry.instanceID {
                                out.raw(",\"instance_id\":")
                                out.integer(id)
                            }
                            out.raw("}\n")
                        }
                        try await writer.write(ByteBuffer(bytes: out.bytes))
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// The version a request's `version` parameter names (a number or a snapshot name), nil
    /// when it has none; 404 `version_not_found` when the store has no record of it.
    static func requested(_ store: any Store, _ dataset: Dataset, _ request: Request) async throws -> VersionPoint? {
        guard let text = request.formQuery.get("version"), !text.isEmpty else { return nil }
        return try await store.versionPoint(of: dataset, named: String(text))
    }
}
