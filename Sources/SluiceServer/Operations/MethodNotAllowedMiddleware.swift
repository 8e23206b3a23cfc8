import Hummingbird
import NIOConcurrencyHelpers

/// The methods registered for each path template, so that a request with another method on a
/// known path is answered 405 with `Allow` (RFC 9110 §15.5.6) rather than 404.
final class AllowedMethods: Sendable {
    private let templates = NIOLockedValueBox<[(segments: [Substring], method: String)]>([])

    func register(_ method: String, _ template: String) {
        let segments = template.split(separator: "/")
        templates.withLockedValue { $0.append((segments, method)) }
    }

    /// The methods of the template that `path` routes to (`{name}` matches any one segment).
    /// Where several match, the router takes a literal segment before a parameter at the
    /// first place they differ (`files/copy` before `files/{file}`), so only that one counts.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/")
        let found = templates.withLockedValue { templates in
            let matching = templates.filter { template in
                template.segments.count == parts.count
                    && zip(template.segments, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            }
            let literalness = { (segments: [Substring]) in segments.map { $0.hasPrefix("{") ? 0 : 1 } }
            guard let best = matching.map({ literalness($0.segments) }).max(by: { $0.lexicographicallyPrecedes($1) })
            else { return [String]() }
            return matching.filter { literalness($0.segments) == best }.map(\.method)
        }
        var methods = Set(found)
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }
}

/// A request whose path is known but whose method is not: 405 with the methods it has.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let allowed: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == "NotFound" {
            // Hummingbird's router names an unmatched request's endpoint "NotFound".
            let methods = allowed.methods(for: request.uri.path)
            guard !methods.isEmpty else { throw error }
            throw APIError(
                .methodNotAllowed, code: "method_not_allowed",
                message: "\(request.method.rawValue) is not a method of \(request.uri.path); it has \(methods.joined(separator: ", "))",
                headers: [.allow: methods.joined(separator: ", ")])
        }
    }
}
