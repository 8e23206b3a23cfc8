import Hummingbird
import SluiceModel
import SluiceStore

/// `GET /datasets/{id}/labels` and `GET /slices/{token}/labels`: instances and files per label,
/// what the web page's histogram draws.
struct HistogramRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.get("/datasets/{id}/labels") { request, context in
            let dataset = try await DatasetRoutes.dataset(api.store, context)
            let version = try await VersionRoutes.requested(api.store, dataset, request)
            return try .json(try await api.store.labelTotals(in: dataset, positions: nil, at: version))
        }
        registry.get("/slices/{token}/labels") { _, context in
            let resolved = try await SliceRoutes.resolve(api, context)
            return try .json(
                try await api.store.labelTotals(in: resolved.dataset, positions: resolved.positions, at: resolved.pinned))
        }
    }
}
