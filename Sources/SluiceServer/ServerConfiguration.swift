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
    /// Largest JSON request body, in bytes (413 past it): a batch of appended files and their
    /// instances is one body.
    public var maxJSONBodyBytes: Int
    /// Deepest nesting of arrays and objects a JSON request body may have (400 past it).
    public var maxJSONDepth: Int
    /// Largest media upload, in bytes (413 past it; nothing is kept).
    public var maxMediaBytes: Int64
    /// Longest slice query, in bytes (400 naming `query` past it).
    public var maxQueryBytes: Int
    /// Streams one client address may have open at once (429 past it).
    public var maxStreamsPerClient: Int
    /// Invalid API keys one address may present within `failedKeyWindow` before its key
    /// attempts are refused (429) until the window has passed.
    public var failedKeyLimit: Int
    public var failedKeyWindow: Duration
    /// A directory to serve the web page from, read anew on every request, instead of the copy
    /// built into the server: for working on the page without rebuilding (`SLUICE_WEB_ROOT`).
    public var webRoot: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8085, maxPageSize: Int = 10_000, defaultPageSize: Int = 100,
        changePollInterval: Duration = .milliseconds(500), maxJSONBodyBytes: Int = 64 << 20, maxJSONDepth: Int = 32,
        maxMediaBytes: Int64 = 2 << 30, maxQueryBytes: Int = 16 << 10, maxStreamsPerClient: Int = 64,
        failedKeyLimit: Int = 20, failedKeyWindow: Duration = .seconds(60), webRoot: String? = nil
    ) {
        self.webRoot = webRoot
        self.maxQueryBytes = maxQueryBytes
        self.maxStreamsPerClient = maxStreamsPerClient
        self.failedKeyLimit = failedKeyLimit
        self.failedKeyWindow = failedKeyWindow
        self.maxJSONBodyBytes = maxJSONBodyBytes
        self.maxJSONDepth = maxJSONDepth
        self.maxMediaBytes = maxMediaBytes
        self.host = host
        self.port = port
        self.maxPageSize = maxPageSize
        self.defaultPageSize = defaultPageSize
        self.changePollInterval = changePollInterval
    }
}
