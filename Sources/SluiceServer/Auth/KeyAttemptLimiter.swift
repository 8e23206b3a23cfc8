import Foundation

/// Counts failed key attempts per client address and refuses further key attempts from an
/// address that failed `limit` times within `window` (429 with `Retry-After`), valid keys
/// included, so a guesser learns nothing while blocked. Requests without a key are not
/// counted or refused here: public reads stay open.
actor KeyAttemptLimiter {
    let limit: Int
    let window: Duration
    private var failures: [String: [ContinuousClock.Instant]] = [:]
    private let clock = ContinuousClock()

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Throws 429 `too_many_failed_keys` while `address` is blocked.
    func check(_ address: String) throws {
        let now = clock.now
        guard let recent = failures[address]?.filter({ now - $0 < window }), recent.count >= limit else { return }
        let retry = window - (now - recent[recent.count - limit])
        let seconds = max(1, Int((Double(retry.components.seconds) + Double(retry.components.attoseconds) / 1e18).rounded(.up)))
        throw APIError(
            .tooManyRequests, code: "too_many_failed_keys",
            message: "\(limit) invalid API keys from this address within \(Int(window.components.seconds)) s: try again in \(seconds) s",
            headers: [.retryAfter: String(seconds)])
    }

    func recordFailure(_ address: String) {
        let now = clock.now
        var recent = (failures[address] ?? []).filter { now - $0 < window }
        recent.append(now)
        failures[address] = Array(recent.suffix(limit))
        // Bounded: addresses whose failures have all aged out are forgotten.
        if failures.count > 10_000 {
            failures = failures.filter { $0.value.contains { now - $0 < window } }
        }
    }
}
