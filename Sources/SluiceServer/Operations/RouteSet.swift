import NIOConcurrencyHelpers

/// A set of `METHOD /route/template` strings, filled while routes are registered and read by
/// every request afterwards.
final class RouteSet: Sendable {
    private let routes = NIOLockedValueBox<Set<String>>([])

    func insert(_ route: String) { _ = routes.withLockedValue { $0.insert(route) } }
    func contains(_ route: String) -> Bool { routes.withLockedValue { $0.contains(route) } }
}
