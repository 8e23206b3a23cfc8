import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// One structured log line and the metrics of every request, written when its body has been
/// sent (so a stream's line carries its whole duration and size). The request id comes from
/// a well-formed `X-Request-Id` of the client, else is made here, and is echoed in the
/// response. The line names the API key by its client id, never by its secret.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    static var requestIDField: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    let logger: Logger
    let metrics: ServerMetrics
    let readingPosts: RouteSet

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        let requestID = Self.requestID(from: request)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // The error middleware inside throws every failure as an API error, rendered here
            // so that its line, metrics and request id are the same as a success's.
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.requestIDField] = requestID
        let (method, status, path) = (request.method.rawValue, response.status.code, request.uri.path)
        let route = context.endpointPath ?? "unmatched"
        let keyID = Self.keyID(of: request)
        let (logger, metrics) = (self.logger, self.metrics)
        let audited = !["GET", "HEAD", "OPTIONS"].contains(method) && !readingPosts.contains("\(method) \(route)")
        let sent = NIOLockedValueBox(0)
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer {
                let duration = ContinuousClock.now - started
                let bytes = sent.withLockedValue { $0 }
                metrics.recordRequest(method: method, route: route, status: status, duration: duration, bytes: bytes)
                Self.log(logger, method: method, route: route, status: status, duration: duration, bytes: bytes,
                         requestID: requestID, keyID: keyID)
                // Every accepted change (writes, key creation, privacy) also gets an audit line:
                // who (key), what (route and path), when, under which request id.
                if audited, (200..<300).contains(status) {
                    var audit: Logger.Metadata = [
                        "method": "\(method)", "route": "\(route)", "path": "\(path)", "status": "\(status)",
                        "request_id": "\(requestID)",
                    ]
                    audit["key_id"] = keyID.map { "\($0)" } ?? "none"
                    logger.notice("audit", metadata: audit)
                }
            }
            try await body.write(CountingBodyWriter(parent: writer, sent: sent))
        }
        return response
    }

    static func log(
        _ logger: Logger, method: String, route: String, status: Int, duration: Duration, bytes: Int,
        requestID: String, keyID: String?
    ) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        var metadata: Logger.Metadata = [
            "method": "\(method)", "route": "\(route)", "status": "\(status)",
            "duration_ms": "\(String(format: "%.2f", seconds * 1000))", "bytes": "\(bytes)", "request_id": "\(requestID)",
        ]
        if let keyID { metadata["key_id"] = "\(keyID)" }
        logger.info("request", metadata: metadata)
    }

    /// The client's id when it is 1 to 64 characters of `[A-Za-z0-9._-]`, else a new one.
    static func requestID(from request: Request) -> String {
        if let given = request.headers[requestIDField], (1...64).contains(given.utf8.count),
            given.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) })
        {
            return given
        }
        return UUID().uuidString.lowercased()
    }

    /// The client id of the request's key (Basic, Bearer or a signed URL); its secret never.
    static func keyID(of request: Request) -> String? {
        switch try? Credential(request: request) {
        case .key(let clientID, _), .signedURL(let clientID, _, _): String(clientID.prefix(64))
        case .anonymous, nil: nil
        }
    }
}
