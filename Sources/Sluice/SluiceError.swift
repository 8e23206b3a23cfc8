/// Errors of the SDK.
public enum SluiceError: Error, CustomStringConvertible, Equatable {
    /// The server answered with an error body.
    case server(status: Int, code: String, message: String)
    /// No project, dataset or file by that name or id.
    case notFound(String)
    /// A position at or past the end.
    case positionOutOfRange(position: Int, count: Int?)
    /// The server could not be reached, after every retry.
    case unreachable(host: String, reason: String)
    /// The server's reply could not be understood.
    case badResponse(String)
    case invalidArgument(String)
    /// A slice query the parser or the server rejected, at a 1-based column.
    case badQuery(message: String, column: Int, suggestions: [String])
    /// An offline `LocalCache` does not hold what was asked for.
    case notCached(String)
    /// A write named a file revision the file no longer has (someone else wrote first):
    /// read the file again (`current` is its revision now) and decide.
    case staleRevision(current: Int64, message: String)
    /// A write the server refused for one field, named by its path (`instances[3].bbox`).
    case invalidField(path: String, message: String)

    public var description: String {
        switch self {
        case .server(let status, let code, let message): "server error \(status) (\(code)): \(message)"
        case .notFound(let what): what
        case .positionOutOfRange(let position, let count):
            "position \(position) is out of range" + (count.map { " (count \($0))" } ?? "")
        case .unreachable(let host, let reason): "cannot reach \(host): \(reason)"
        case .badResponse(let message): "unexpected response: \(message)"
        case .invalidArgument(let message): message
        case .notCached(let what): "offline, and the local cache does not hold \(what)"
        case .staleRevision(_, let message): message
        case .invalidField(_, let message): message
        case .badQuery(let message, let column, let suggestions):
            "bad query at column \(column): \(message)"
                + (suggestions.isEmpty ? "" : " (did you mean \(suggestions.map { "'\($0)'" }.joined(separator: ", "))?)")
        }
    }
}
