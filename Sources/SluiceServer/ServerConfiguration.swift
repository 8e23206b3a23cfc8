/// How a server listens and what it allows; built from CLI options and passed down.
public struct ServerConfiguration: Sendable {
    /// Address to bind; `127.0.0.1` keeps the server local.
    public var host: String
    /// TCP port; 0 picks a free one (reported through `onServerRunning`).
    public var port: Int
    /// Largest page of items one request returns; larger ranges are clipped to it.
    public var maxPageSize: Int
    /// Page size used when a request gives no `end`.
    public var defaultPageSize: Int
    /// How often a long poll of a change feed reads the store while it waits. Writes through
    /// this process wake it at once; this bounds how late it sees another process's writes.
    public var changePollInterval: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 8085, maxPageSize: Int = 10_000, defaultPageSize: Int = 100,
        changePollInterval: Duration = .milliseconds(500)
    ) {
        self.host = host
        self.port = port
        self.maxPageSize = maxPageSize
        self.defaultPageSize = defaultPageSize
        self.changePollInterval = changePollInterval
    }
}
