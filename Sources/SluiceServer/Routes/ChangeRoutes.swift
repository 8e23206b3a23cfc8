import Foundation
import Hummingbird
import ServiceLifecycle
import SluiceModel
import SluiceStore

/// `/datasets/{id}/changes`: a dataset's change feed, long-polled.
///
/// `since` is the cursor of the last change the client has; without it the feed starts at
/// its current end. When nothing follows `since`, the request waits up to `wait` seconds
/// and answers as soon as a change commits, or with no changes and the same cursor.
struct ChangeRoutes {
    let api: APIContext

    /// The longest a request may wait for a change; a longer `wait` is refused (400).
    static let maxWait: Double = 60
    /// Changes in a reply when the request sets no `limit`, and the most it may set.
    static let defaultLimit = 1000
    static let maxLimit = 10_000

    func addRoutes(to registry: inout RouteRegistry) {
        let store = api.store
        let pollInterval = api.configuration.changePollInterval
        let metrics = api.metrics
        registry.get("/datasets/{id}/changes") { request, context in
            let dataset = try await DatasetRoutes.dataset(store, context)
            let limit = try request.integer("limit", default: Self.defaultLimit)
            guard (1...Self.maxLimit).contains(limit) else {
                throw APIError.badParameter("limit", "must be between 1 and \(Self.maxLimit), got \(limit)")
            }
            let wait = try Self.waitSeconds(request)
            let since = try Self.since(request)
            let cursor = if let since { since } else { try await store.changeCursor(datasetID: dataset.id) }
            if wait > 0 { metrics.openFollows.increment() }
            defer { if wait > 0 { metrics.openFollows.decrement() } }
            let page = try await Self.changes(
                store, datasetID: dataset.id, after: cursor, limit: limit, wait: .milliseconds(Int64(wait * 1000)),
                pollInterval: pollInterval)
            return try .json(page)
        }
    }

    /// The page after `cursor`; when it is empty, waits up to `wait` for a change to fill it,
    /// woken by the store's notifier and reading the store every `pollInterval` meanwhile.
    static func changes(
        _ store: any Store, datasetID: Int64, after cursor: Int64, limit: Int, wait: Duration, pollInterval: Duration
    ) async throws -> ChangePage {
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        let notifier = store.changeNotifier
        while true {
            // Marked before the read: a commit between the read and the wait wakes the wait.
            let mark = notifier.mark()
            let page = try await store.changes(datasetID: datasetID, after: cursor, limit: limit)
            let left = deadline - clock.now
            // A server shutting down answers its long polls at once, so it stops promptly
            // and the clients' next request finds the next server.
            guard page.changes.isEmpty, left > .zero, !Task.isCancelled, !Task.isShuttingDownGracefully else {
                return page
            }
            await cancelWhenGracefulShutdown {
                _ = await notifier.wait(for: datasetID, after: mark, timeout: min(left, pollInterval))
            }
        }
    }

    /// `since`: a cursor a reply gave (a change's seq), or nil when absent.
    static func since(_ request: Request) throws -> Int64? {
        guard let text = request.formQuery.get("since") else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIError.badParameter("since", "expected a cursor (a non-negative integer), got '\(text)'")
        }
        return value
    }

    /// `wait`, in seconds (fractions allowed), at most `maxWait`; 0 when absent.
    static func waitSeconds(_ request: Request) throws -> Double {
        guard let text = request.formQuery.get("wait") else { return 0 }
        guard let value = Double(text), value.isFinite, value >= 0, value <= maxWait else {
            throw APIError.badParameter("wait", "expected a number of seconds from 0 to \(Int(maxWait)), got '\(text)'")
        }
        return min(value, maxWait)
    }
}
