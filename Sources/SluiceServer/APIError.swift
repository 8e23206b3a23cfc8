import Foundation
import Hummingbird
import Logging
import SluiceModel
import SluiceStore

/// An error response: a status and the JSON body `{"error": {"code", "message", "detail"}}`.
public struct APIError: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var detail: JSONValue?
    /// Extra response headers (`WWW-Authenticate` of a 401).
    public var headers: HTTPFields
    /// When set, also write Diffgram's `log` object with this as its `error`: the diffgram SDK
    /// raises `response.json()["log"]["error"]`.
    var diffgramLog: String?

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, detail: JSONValue? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var out = JSONOutput()
        out.raw("{\"error\":{\"code\":")
        out.string(code)
        out.raw(",\"message\":")
        out.string(message)
        if let detail {
            out.raw(",\"detail\":")
            out.value(detail)
        }
        out.raw("}")
        if let diffgramLog {
            out.raw(",\"log\":{\"success\":false,\"error\":")
            out.string(diffgramLog)
            out.raw("}")
        }
        out.raw("}")
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "bad_parameter", message: "\(name): \(message)", detail: .object(["parameter": .string(name)]))
    }

    /// A parameter written as its schema says whose value does not fit the others or the
    /// resource (a rank past the world size, more items than the dataset holds): 422.
    static func unprocessableParameter(_ name: String, _ message: String) -> APIError {
        APIError(
            .unprocessableContent, code: "bad_parameter", message: "\(name): \(message)",
            detail: .object(["parameter": .string(name)]))
    }

    static func notFound(_ what: String, code: String = "not_found") -> APIError {
        APIError(.notFound, code: code, message: what)
    }
}

/// Turns every error into the JSON error body, so clients parse one shape whatever failed.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            throw APIError(error, logger: context.logger)
        }
    }
}

extension APIError {
    /// Any error in the JSON error shape: API errors as they are, store errors and
    /// Hummingbird's own by their meaning, anything else as a logged 500.
    init(_ error: any Error, logger: Logger) {
        switch error {
        case let error as APIError:
            self = error
        case let error as StoreError:
            switch error {
            case .projectNotFound, .datasetNotFound, .fileNotFound, .instanceNotFound, .notFound:
                self = APIError(.notFound, code: "not_found", message: error.description)
            case .invalid(let message):
                self = APIError(.badRequest, code: "invalid", message: message)
            case .conflict(let message):
                self = APIError(.conflict, code: "conflict", message: message)
            case .versionNotFound(let message):
                self = APIError(.notFound, code: "version_not_found", message: message)
            case .invalidField(let field):
                self = APIError(
                    .unprocessableContent, code: "invalid", message: field.description,
                    detail: .object(["field": .string(field.path)]))
            case .revisionMismatch(_, let current):
                // The current revision comes back as the ETag too: the client re-reads and retries.
                self = APIError(
                    .preconditionFailed, code: "revision_mismatch", message: error.description,
                    detail: .object(["revision": .number(Double(current))]), headers: [.eTag: "\"\(current)\""])
            }
        case let error as any HTTPResponseError:
            let code =
                switch error.status.code {
                case 404: "not_found"
                case 405: "method_not_allowed"
                case 400: "bad_request"
                case 413: "payload_too_large"
                default: "http_\(error.status.code)"
                }
            self = APIError(error.status, code: code, message: error.status.reasonPhrase)
        case let error as DecodingError:
            self = APIError(.badRequest, code: "bad_body", message: "the request body is not valid: \(error)")
        default:
            logger.error("internal error: \(error)")
            self = APIError(.internalServerError, code: "internal", message: "internal error")
        }
    }
}
