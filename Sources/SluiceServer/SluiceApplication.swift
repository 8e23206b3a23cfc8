import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat
import SluiceModel
import SluiceStore

/// The request context of every Sluice route: Hummingbird's basic one, plus the client's
/// address, which failed key attempts are counted by.
public struct SluiceRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The connection, for routes that send files from it (`FileSending`).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}

/// A route as registered: method and path template (`/api/v1/datasets/{id}/count`).
public struct RegisteredRoute: Hashable, Sendable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var description: String { "\(method) \(path)" }
}

/// Registers routes on a group and records them, so tests can hold the OpenAPI document
/// to the routes that really exist. Every route it registers runs the authorization step
/// (`APIContext.authorize`) first, for the project its path template names.
public struct RouteRegistry {
    let group: RouterGroup<SluiceRequestContext>
    let prefix: String
    let api: APIContext
    public private(set) var routes: [RegisteredRoute] = []

    init(group: RouterGroup<SluiceRequestContext>, prefix: String, api: APIContext) {
        self.group = group
        self.prefix = prefix
        self.api = api
    }

    /// Registers `handler`; `access` defaults to read for GET and write otherwise (a POST that
    /// only reads, such as creating a slice, says so).
    mutating func on(
        _ method: HTTPRequest.Method, _ path: String, access: Access? = nil,
        _ handler: @escaping @Sendable (Request, SluiceRequestContext) async throws -> Response
    ) {
        let scope = ProjectScope(template: path)
        let access = access ?? (method == .get ? .read : .write)
        let api = self.api
        if access == .read, method != .get, method != .head { api.readingPosts.insert("\(method.rawValue) \(prefix)\(path)") }
        api.allowedMethods.register(method.rawValue, prefix + path)
        group.on(RouterPath(path), method: method, use: { request, context in
            try await api.authorize(request, context, scope: scope, access: access)
            return try await handler(request, context)
        })
        routes.append(RegisteredRoute(method: method.rawValue, path: prefix + path))
    }

    mutating func get(
        _ path: String, _ handler: @escaping @Sendable (Request, SluiceRequestContext) async throws -> Response
    ) {
        on(.get, path, handler)
    }

    mutating func post(
        _ path: String, access: Access? = nil,
        _ handler: @escaping @Sendable (Request, SluiceRequestContext) async throws -> Response
    ) {
        on(.post, path, access: access, handler)
    }
}

/// Builds the Sluice HTTP application over a store.
public enum SluiceAPI {
    /// The router with every route, and the list of routes it has.
    /// `logger` receives one line per request (none by default: tests run many servers).
    public static func buildRouter(
        store: any Store, configuration: ServerConfiguration = ServerConfiguration(),
        metrics: ServerMetrics = ServerMetrics(),
        logger: Logger = Logger(label: "sluice", factory: { _ in SwiftLogNoOpLogHandler() })
    ) -> (router: Router<SluiceRequestContext>, routes: [RegisteredRoute]) {
        let router = Router(context: SluiceRequestContext.self, options: [.autoGenerateHeadEndpoints])
        // Outermost, so it sees the response the error middleware makes of a thrown error.
        let api = APIContext(store: store, configuration: configuration, metrics: metrics)
        router.add(middleware: RequestLogMiddleware(logger: logger, metrics: metrics, readingPosts: api.readingPosts))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(
            middleware: KeyAttemptMiddleware(
                limiter: KeyAttemptLimiter(limit: configuration.failedKeyLimit, window: configuration.failedKeyWindow)))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(allowed: api.allowedMethods))
        OperationsRoutes(api: api).addRoutes(to: router)
        var registry = RouteRegistry(group: router.group("/api/v1"), prefix: "/api/v1", api: api)
        ProjectRoutes(api: api).addRoutes(to: &registry)
        DatasetRoutes(api: api).addRoutes(to: &registry)
        FileRoutes(api: api).addRoutes(to: &registry)
        SliceRoutes(api: api).addRoutes(to: &registry)
        StreamRoutes(api: api).addRoutes(to: &registry)
        ChangeRoutes(api: api).addRoutes(to: &registry)
        ExportRoutes(api: api).addRoutes(to: &registry)
        VersionRoutes(api: api).addRoutes(to: &registry)
        DatasetTagRoutes(api: api).addRoutes(to: &registry)
        MediaRoutes(api: api).addRoutes(to: &registry)
        AnnotationRoutes(api: api).addRoutes(to: &registry)
        LabelRoutes(api: api).addRoutes(to: &registry)
        ImportRoutes(api: api).addRoutes(to: &registry)
        HistogramRoutes(api: api).addRoutes(to: &registry)
        ThumbnailRoutes(api: api).addRoutes(to: &registry)
        registry.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        // Diffgram's paths, beside Sluice's own (docs/diffgram-compat.md). Not in the returned
        // list: that list is what the OpenAPI document describes, and these are Diffgram's API.
        DiffgramRoutes(api: api).addRoutes(to: router)
        WebPageRoutes(root: configuration.webRoot, store: store).addRoutes(to: router)
        return (router, registry.routes)
    }

    /// The application: the router served on `configuration.host:port`.
    /// `onServerRunning` receives the bound port (useful with port 0).
    public static func buildApplication(
        store: any Store, configuration: ServerConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let (router, _) = buildRouter(store: store, configuration: configuration, logger: logger)
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [FileSenderInstaller()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

/// What every route handler needs.
struct APIContext: Sendable {
    let store: any Store
    let configuration: ServerConfiguration
    let metrics: ServerMetrics
    let fileIO = FileIO()
    let slices: SliceCache
    let labelTotals = LabelTotalsCache()
    let streamSlots: StreamSlots
    /// Routes that change nothing though their method is not GET (a slice is made by POST):
    /// no audit line for them.
    let readingPosts = RouteSet()
    /// Every registered method per path template, for 405 answers.
    let allowedMethods = AllowedMethods()

    init(store: any Store, configuration: ServerConfiguration, metrics: ServerMetrics) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        slices = SliceCache(metrics: metrics)
        streamSlots = StreamSlots(limit: configuration.maxStreamsPerClient)
    }
}

extension Response {
    /// How the API writes an encodable value; the gallery's page data (`GalleryBoot`) too.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response of an encodable value.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func json(_ value: [String: String]) -> Response {
        var out = JSONOutput()
        out.object(value.mapValues { .string($0) })
        return json(bytes: out.bytes)
    }

    /// A JSON response of bytes already written.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Request {
    /// The JSON body as `T`; 400 `bad_body` naming the field at fault.
    func decodeBody<T: Decodable>(
        as type: T.Type, context: SluiceRequestContext, limits: ServerConfiguration
    ) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limits.maxJSONBodyBytes)
        } catch {
            throw APIError(
                .contentTooLarge, code: "payload_too_large",
                message: "the request body is over the \(limits.maxJSONBodyBytes) bytes this server takes",
                detail: .object(["limit": .number(Double(limits.maxJSONBodyBytes))]))
        }
        if let depth = JSONDepth.exceeding(limits.maxJSONDepth, in: buffer.readableBytesView) {
            throw APIError(
                .badRequest, code: "bad_body",
                message: "the request body nests deeper than \(limits.maxJSONDepth) levels (at byte \(depth))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let DecodingError.keyNotFound(key, context) {
            let path = Self.fieldPath(context.codingPath + [key])
            throw APIError(
                .badRequest, code: "bad_body", message: "the request body needs '\(path)'",
                detail: .object(["field": .string(path)]))
        } catch let DecodingError.typeMismatch(expected, context) {
            let path = Self.fieldPath(context.codingPath)
            throw APIError(
                .badRequest, code: "bad_body", message: "'\(path)' must be \(expected)",
                detail: .object(["field": .string(path)]))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            let path = Self.fieldPath(context.codingPath)
            throw APIError(
                .badRequest, code: "bad_body", message: "'\(path)': \(context.debugDescription)",
                detail: .object(["field": .string(path)]))
        } catch let DecodingError.valueNotFound(_, context) {
            let path = Self.fieldPath(context.codingPath)
            throw APIError(
                .badRequest, code: "bad_body", message: "'\(path)' must not be null", detail: .object(["field": .string(path)]))
        } catch {
            throw APIError(.badRequest, code: "bad_body", message: "the request body is not valid JSON")
        }
    }

    /// `files[2].instances[0].bbox`: a decoding path as a request's author wrote the field.
    static func fieldPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    /// A boolean query parameter (`true` or `false`), `defaultValue` when absent; 400 otherwise.
    func boolean(_ name: String, default defaultValue: Bool) throws -> Bool {
        switch formQuery.get(name) {
        case nil: return defaultValue
        case "true": return true
        case "false": return false
        case let text?: throw APIError.badParameter(name, "expected true or false, got '\(text)'")
        }
    }

    /// An integer query parameter, `defaultValue` when absent; 400 when not an integer.
    func integer(_ name: String, default defaultValue: Int) throws -> Int {
        guard let text = formQuery.get(name) else { return defaultValue }
        guard let value = Int(text) else { throw APIError.badParameter(name, "expected an integer, got '\(text)'") }
        return value
    }

    /// The positions `start..<end` a page request asks for, clipped (not refused) to `count`
    /// and the page limit: a client follows the reply's `end` to its next request.
    func pageRange(count: Int, _ configuration: ServerConfiguration) throws -> Range<Int> {
        let start = try integer("start", default: 0)
        guard start >= 0 else { throw APIError.badParameter("start", "must not be negative") }
        // Saturating: a start near Int.max (a stranger's request) must not trap the server.
        let after = { (length: Int) in start > Int.max - length ? Int.max : start + length }
        let end = try integer("end", default: after(configuration.defaultPageSize))
        guard end >= 0 else { throw APIError.badParameter("end", "must not be negative") }
        // An end before start asks for nothing: an empty page, not an error.
        return start..<max(start, min(end, count, after(configuration.maxPageSize)))
    }
}

extension SluiceRequestContext {
    /// A path parameter that must be an integer id.
    func id(_ name: String) throws -> Int64 {
        let text = try parameters.require(name)
        guard let value = Int64(text), value >= 0 else {
            throw APIError.badParameter(name, "expected a non-negative integer id, got '\(text)'")
        }
        return value
    }

    /// The `{position}` path parameter, checked against the count of what it indexes.
    func position(count: Int, of what: String) throws -> Int {
        let text = try parameters.require("position")
        guard let position = Int(text), position >= 0 else {
            throw APIError.badParameter("position", "expected a non-negative integer, got '\(text)'")
        }
        guard position < count else {
            throw APIError(
                .notFound, code: "position_out_of_range",
                message: "position \(position) is past the end of \(what) (count \(count))",
                detail: .object(["count": .number(Double(count))]))
        }
        return position
    }
}
