import Foundation
import NIOConcurrencyHelpers

/// Counts failed key attempts per client address and refuses further key attempts from an
/// address that failed `limit` times within `window` (429 with `Retry-After`), valid keys
/// included, so a guesser learns nothing while blocked. Requests without a key are not
/// counted or refused here: public reads stay open.
///
/// A lock, not an actor: every request with a key checks it, and a check is a dictionary
/// look-up that should not cost a task hop.
final class KeyAttemptLimiter: Sendable {
    let limit: Int
    let window: Duration
    private let failures = NIOLockedValueBox<[String: [ContinuousClock.Instant]]>([:])

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Throws 429 `too_many_failed_keys` while `address` is blocked.
    func check(_ address: String) throws {
        let now = ContinuousClock.now
        let window = self.window, limit = self.limit
        let retry: Duration? = failures.withLockedValue { failures in
            guard let recent = failures[address]?.filter({ now - $0 < window }), recent.count >= limit else { return nil }
            return window - (now - recent[recent.count - limit])
        }
        guard let retry else { return }
        let seconds = max(1, Int((Double(retry.components.seconds) + Double(retry.components.attoseconds) / 1e18).rounded(.up)))
        throw APIError(
            .tooManyRequests, code: "too_many_failed_keys",
            message: "\(limit) invalid API keys from this address within \(Int(window.components.seconds)) s: try again in \(seconds) s",
            headers: [.retryAfter: String(seconds)])
    }

    func recordFailure(_ address: String) {
        let now = ContinuousClock.now
        let window = self.window, limit = self.limit
        failures.withLockedValue { failures in
            var recent = (failures[address] ?? []).filter { now - $0 < window }
            recent.append(now)
            failures[address] = Array(recent.suffix(limit))
            // Bounded: addresses whose failures have all aged out are forgotten.
            if failures.count > 10_000 {
                failures = failures.filter { $0.value.contains { now - $0 < window } }
            }
        }
    }
}
