import Foundation
import Hummingbird
import SluiceModel
import SluiceStore

/// An error response: a status and the JSON body `{"error": {"code", "message", "detail"}}`.
public struct APIError: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var detail: JSONValue?

    public init(_ status: HTTPResponse.Status, code: String, message: String, detail: JSONValue? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
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
        out.raw("}}")
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: out.bytes)))
    }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "bad_parameter", message: "\(name): \(message)", detail: .object(["parameter": .string(name)]))
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
        } catch let error as APIError {
            throw error
        } catch let error as StoreError {
            switch error {
            case .projectNotFound, .datasetNotFound, .fileNotFound, .instanceNotFound:
                throw APIError(.notFound, code: "not_found", message: error.description)
            case .invalid(let message):
                throw APIError(.badRequest, code: "invalid", message: message)
            case .conflict(let message):
                throw APIError(.conflict, code: "conflict", message: message)
            }
        } catch let error as any HTTPResponseError {
            let code =
                switch error.status.code {
                case 404: "not_found"
                case 405: "method_not_allowed"
                case 400: "bad_request"
                case 413: "payload_too_large"
                default: "http_\(error.status.code)"
                }
            throw APIError(error.status, code: code, message: error.status.reasonPhrase)
        } catch let error as DecodingError {
            throw APIError(.badRequest, code: "bad_body", message: "the request body is not valid: \(error)")
        } catch {
            context.logger.error("internal error: \(error)")
            throw APIError(.internalServerError, code: "internal", message: "internal error")
        }
    }
}
