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
            let key = LabelTotalsCache.Key.dataset(id: dataset.id, version: version?.version ?? dataset.version)
            let counted = try await api.labelTotals.totals(for: key) {
                let counted = try await api.store.labelTallies(in: dataset, positions: nil, at: version)
                return (counted, try await Self.unmoved(api, dataset, since: version))
            }
            return try .json(try await api.store.labelTotals(in: dataset, at: version, counted: counted))
        }
        registry.get("/slices/{token}/labels") { _, context in
            let resolved = try await SliceRoutes.resolve(api, context)
            let counted = try await api.labelTotals.totals(for: .slice(resolved.key)) {
                let counted = try await api.store.labelTallies(
                    in: resolved.dataset, positions: resolved.positions, at: resolved.pinned)
                return (counted, try await Self.unmoved(api, resolved.dataset, since: resolved.pinned))
            }
            return try .json(try await api.store.labelTotals(in: resolved.dataset, at: resolved.pinned, counted: counted))
        }
    }

    /// Whether counts read at the current version of `dataset` still belong to it: the
    /// maintained counts are read in a transaction of their own, after the dataset's row.
    /// An older version's counts come from its items and never move.
    static func unmoved(_ api: APIContext, _ dataset: Dataset, since version: VersionPoint?) async throws -> Bool {
        if let version, version.version != dataset.version { return true }
        return try await api.store.dataset(id: dataset.id)?.version == dataset.version
    }
}
