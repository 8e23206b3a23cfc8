import Foundation

/// How the SDK talks to a server: where, with which key, how patiently.
public struct ClientConfiguration: Sendable {
    /// The server's base URL, such as `http://127.0.0.1:8085`.
    public var host: String
    /// The `client_id:secret` token of `sluice keys create`, sent as `Authorization: Bearer …` when set.
    public var apiKey: String?
    /// Deadline of one request until its response head arrives, retries excluded.
    public var requestTimeout: Duration
    /// The longest silence allowed in the middle of a response before the transfer counts
    /// as broken (and resumes).
    public var readTimeout: Duration
    public var retry: RetryPolicy
    /// Where streamed items are kept for later epochs and offline runs, if anywhere.
    public var cache: LocalCache?

    /// Defaults from the environment: `SLUICE_HOST` (else `http://127.0.0.1:8085`) and `SLUICE_API_KEY`.
    public init(
        host: String? = nil, apiKey: String? = nil, requestTimeout: Duration = .seconds(30),
        readTimeout: Duration = .seconds(30), retry: RetryPolicy = RetryPolicy(), cache: LocalCache? = nil
    ) {
        let environment = ProcessInfo.processInfo.environment
        var base = host ?? environment["SLUICE_HOST"] ?? "http://127.0.0.1:8085"
        while base.hasSuffix("/") { base.removeLast() }
        self.host = base
        self.apiKey = apiKey ?? environment["SLUICE_API_KEY"]
        self.requestTimeout = requestTimeout
        self.readTimeout = readTimeout
        self.retry = retry
        self.cache = cache
    }
}

/// Retries of idempotent requests after connection errors and 502/503/504 answers:
/// exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The pause before try number `attempt + 1` (attempt counts from 1).
    func delay(after attempt: Int) -> Duration {
        let ceiling = min(maxDelay, baseDelay * (1 << min(attempt - 1, 20)))
        let fraction = Double.random(in: 0.5...1.0)
        return ceiling * fraction
    }
}
