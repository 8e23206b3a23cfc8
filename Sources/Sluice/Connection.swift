import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// One server's HTTP access: JSON GETs with retries on transient failures.
///
/// Requests go through AsyncHTTPClient's connection pool, so handles made from one
/// `Project` share keep-alive connections.
struct Connection: Sendable {
    let configuration: ClientConfiguration
    let client: HTTPClient

    init(configuration: ClientConfiguration) {
        self.configuration = configuration
        self.client = Self.client(readTimeout: configuration.readTimeout)
    }

    /// One client per read timeout in the process, like `HTTPClient.shared` (which has 90 s):
    /// handles share connection pools, and the clients live as long as the process, so
    /// nothing has to shut them down. The read timeout is what notices a server that stops
    /// sending in the middle of a response; the request deadline covers only its head.
    static func client(readTimeout: Duration) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[readTimeout] { return client }
            var configuration = HTTPClient.Configuration.singletonConfiguration
            configuration.timeout = .init(connect: .seconds(10), read: .nanoseconds(readTimeout.nanoseconds))
            configuration.decompression = .disabled
            // `RetryPolicy` retries refused connections with backoff, so the pool need not
            // keep trying until the connect timeout: nobody listening fails in milliseconds.
            configuration.connectionPool.retryConnectionEstablishment = false
            // Socket reads of up to 256 KB instead of NIO's 64 KB: every read is a body part
            // handed from the event loop to the reading task, and with 64 KB a 100 KB image
            // took two of them and a copy to join them (the media stream's client CPU per item
            // fell from 116 to 60 µs). Not more: an image view keeps its read alive
            // (`FrameCutter.media`). AsyncHTTPClient exposes its HTTP/1 channel only through
            // this initializer.
            configuration.http1_1ConnectionDebugInitializer = { channel in
                channel.setOption(
                    ChannelOptions.recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64 << 10, maximum: 256 << 10))
            }
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[readTimeout] = client
            return client
        }
    }

    private static let clients = Mutex<[Duration: HTTPClient]>([:])

    private static let decoder = JSONDecoder()

    /// GETs `path` (below the host) and decodes the JSON reply. `timeout`, when given,
    /// replaces the configured request timeout: a long poll is meant to take long.
    func get<T: Decodable & Sendable>(_ path: String, as type: T.Type = T.self, timeout: Duration? = nil) async throws -> T {
        let body = try await reply(key: path) { try await getBytes(path, timeout: timeout) }
        do {
            return try Self.decoder.decode(T.self, from: Data(buffer: body, byteTransferStrategy: .noCopy))
        } catch {
            throw SluiceError.badResponse("\(path): \(error)")
        }
    }

    /// POSTs a JSON body to `path` (not retried: writes are not assumed idempotent).
    func post<T: Decodable & Sendable>(_ path: String, json: some Encodable, as type: T.Type = T.self) async throws -> T {
        var request = makeRequest(path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let encoded = try JSONEncoder().encode(json)
        request.body = .bytes(ByteBuffer(bytes: encoded))
        let body = try await reply(key: "POST \(path) \(String(decoding: encoded, as: UTF8.self))") {
            try await send(request, path: path)
        }
        do {
            return try Self.decoder.decode(T.self, from: Data(buffer: body, byteTransferStrategy: .noCopy))
        } catch {
            throw SluiceError.badResponse("\(path): \(error)")
        }
    }

    /// Sends a write once (writes are not retried: they are not assumed idempotent) and
    /// decodes the JSON reply. `ifRevision` becomes `If-Match`.
    func send<T: Decodable & Sendable>(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer?, contentType: String? = nil, ifRevision: Int64? = nil,
        as type: T.Type = T.self
    ) async throws -> T {
        var request = makeRequest(path)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let ifRevision { request.headers.add(name: "If-Match", value: "\"\(ifRevision)\"") }
        if let body { request.body = .bytes(body) }
        let reply: ByteBuffer
        do {
            reply = try await send(request, path: path)
        } catch let failure as TransientFailure {
            throw SluiceError.unreachable(host: configuration.host, reason: failure.reason)
        }
        do {
            return try Self.decoder.decode(T.self, from: Data(buffer: reply, byteTransferStrategy: .noCopy))
        } catch {
            throw SluiceError.badResponse("\(path): \(error)")
        }
    }

    /// Sends a write that answers with no body (204), such as a deletion.
    func send(_ method: HTTPMethod, _ path: String) async throws {
        var request = makeRequest(path)
        request.method = method
        do {
            _ = try await send(request, path: path)
        } catch let failure as TransientFailure {
            throw SluiceError.unreachable(host: configuration.host, reason: failure.reason)
        }
    }

    /// Sends `json` as the body of a write (see `send(_:_:body:)`).
    func send<T: Decodable & Sendable>(
        _ method: HTTPMethod, _ path: String, json: some Encodable, ifRevision: Int64? = nil, as type: T.Type = T.self
    ) async throws -> T {
        let encoded = try JSONEncoder().encode(json)
        return try await send(
            method, path, body: ByteBuffer(bytes: encoded), contentType: "application/json", ifRevision: ifRevision)
    }

    /// PUTs the file at `filePath` as the body, read in chunks as the connection takes them.
    func upload<T: Decodable & Sendable>(
        _ path: String, fileAt filePath: String, progress: (@Sendable (Int64) -> Void)?, as type: T.Type = T.self
    ) async throws -> T {
        guard let handle = FileHandle(forReadingAtPath: filePath) else {
            throw SluiceError.invalidArgument("cannot read \(filePath)")
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let chunks = FileChunks(handle: handle, progress: progress)
        var request = makeRequest(path)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(chunks, length: .known(Int64(size)))
        let reply: ByteBuffer
        do {
            reply = try await send(request, path: path, timeout: .seconds(3600))
        } catch let failure as TransientFailure {
            throw SluiceError.unreachable(host: configuration.host, reason: failure.reason)
        }
        do {
            return try Self.decoder.decode(T.self, from: Data(buffer: reply, byteTransferStrategy: .noCopy))
        } catch {
            throw SluiceError.badResponse("\(path): \(error)")
        }
    }

    /// POSTs a JSON body once and hands the reply to `onChunk` as it arrives (a long reply
    /// that reports progress, such as an import's).
    func post(_ path: String, json: some Encodable, onChunk: (ByteBuffer) throws -> Void) async throws {
        var request = makeRequest(path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(json)))
        do {
            _ = try await stream(request, path: path, timeout: .seconds(24 * 3600), onChunk: onChunk)
        } catch let failure as TransientFailure {
            throw SluiceError.unreachable(host: configuration.host, reason: failure.reason)
        }
    }

    /// Whether a HEAD of `path` answers 200 (false for 404).
    func exists(_ path: String) async throws -> Bool {
        var request = makeRequest(path)
        request.method = .HEAD
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(configuration.requestTimeout.nanoseconds))
            switch response.status.code {
            case 200..<300: return true
            case 404: return false
            default:
                throw SluiceError.server(
                    status: Int(response.status.code), code: "http_\(response.status.code)",
                    message: "HEAD \(path): \(response.status.reasonPhrase)")
            }
        } catch let error as SluiceError {
            throw error
        } catch {
            throw SluiceError.unreachable(host: configuration.host, reason: "\(error)")
        }
    }

    /// The reply `fetch` gets, kept in the local cache (when there is one) for offline runs,
    /// which answer from it without a request. Change feeds are live by nature: never kept.
    private func reply(key: String, _ fetch: () async throws -> ByteBuffer) async throws -> ByteBuffer {
        guard let cache = configuration.cache, !key.contains("/changes") else { return try await fetch() }
        if cache.offline {
            guard let body = cache.reply(key) else { throw SluiceError.notCached(key) }
            return body
        }
        let body = try await fetch()
        cache.storeReply(key, body)
        return body
    }

    /// GETs `path` and returns the body bytes, retrying connection errors and 502/503/504.
    func getBytes(_ path: String, timeout: Duration? = nil) async throws -> ByteBuffer {
        var attempt = 1
        while true {
            do {
                return try await send(makeRequest(path), path: path, timeout: timeout)
            } catch let error as TransientFailure {
                guard attempt < configuration.retry.maxAttempts else {
                    throw SluiceError.unreachable(host: configuration.host, reason: error.reason)
                }
                try await Task.sleep(for: configuration.retry.delay(after: attempt))
                attempt += 1
            }
        }
    }

    private func makeRequest(_ path: String, headers: [(String, String)] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.host + path)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let key = configuration.apiKey {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        return request
    }

    /// One try; `TransientFailure` for what a retry may cure.
    private func send(_ request: HTTPClientRequest, path: String, timeout: Duration? = nil) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        _ = try await stream(request, path: path, timeout: timeout) { chunk in
            var chunk = chunk
            collected.writeBuffer(&chunk)
        }
        return collected
    }

    /// GETs `path` once and hands the body to `onChunk` as it arrives; returns the response
    /// headers after the whole body. Throws `TransientFailure` for what a retry may cure: a
    /// connection error, also in the middle of the body, and 502/503/504.
    func stream(_ path: String, onChunk: (ByteBuffer) throws -> Void) async throws -> HTTPHeaders {
        try await stream(makeRequest(path), path: path, onChunk: onChunk)
    }

    /// `stream(_:onChunk:)` with request `headers`, and `onHead` called with the status of a
    /// successful response before its first chunk (a range request learns whether it got a part).
    func stream(
        _ path: String, headers: [(String, String)], onHead: (Int) throws -> Void, onChunk: (ByteBuffer) throws -> Void
    ) async throws -> HTTPHeaders {
        try await stream(makeRequest(path, headers: headers), path: path, onHead: onHead, onChunk: onChunk)
    }

    private func stream(
        _ request: HTTPClientRequest, path: String, timeout: Duration? = nil, onHead: (Int) throws -> Void = { _ in },
        onChunk: (ByteBuffer) throws -> Void
    ) async throws -> HTTPHeaders {
        let response: HTTPClientResponse
        do {
            let timeout = timeout ?? configuration.requestTimeout
            response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        } catch {
            throw Self.classify(error)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: 1 << 24)
            } catch {
                throw Self.classify(error)
            }
            throw Self.failure(status: status, reason: response.status.reasonPhrase, body: body, path: path)
        }
        try onHead(status)
        do {
            for try await chunk in response.body { try onChunk(chunk) }
        } catch let error as SluiceError {
            throw error
        } catch {
            throw Self.classify(error)
        }
        return response.headers
    }

    /// Cancellation stays cancellation; every other transport error may be cured by a retry.
    private static func classify(_ error: any Error) -> any Error {
        if error is CancellationError { return CancellationError() }
        if let error = error as? HTTPClientError, error == .cancelled { return CancellationError() }
        if Task.isCancelled { return CancellationError() }
        return TransientFailure(reason: "\(error)")
    }

    private static func failure(status: Int, reason: String, body: ByteBuffer, path: String) -> any Error {
        if [502, 503, 504].contains(status) {
            return TransientFailure(reason: "HTTP \(status) from \(path)")
        }
        let reply = try? decoder.decode(ErrorResponse.self, from: Data(buffer: body))
        let code = reply?.error.code ?? "http_\(status)"
        let message = reply?.error.message ?? reason
        if code == "bad_query", case .object(let detail)? = reply?.error.detail {
            let column = detail["column"]?.numberValue.map { Int($0) } ?? 0
            let suggestions: [String] =
                if case .array(let list)? = detail["suggestions"] { list.compactMap(\.stringValue) } else { [] }
            return SluiceError.badQuery(message: message, column: column, suggestions: suggestions)
        }
        if status == 404, code != "position_out_of_range" { return SluiceError.notFound(message) }
        if status == 412, case .object(let detail)? = reply?.error.detail, let current = detail["revision"]?.numberValue {
            return SluiceError.staleRevision(current: Int64(current), message: message)
        }
        if status == 422, case .object(let detail)? = reply?.error.detail, let field = detail["field"]?.stringValue {
            return SluiceError.invalidField(path: field, message: message)
        }
        return SluiceError.server(status: status, code: code, message: message)
    }

    struct TransientFailure: Error {
        let reason: String
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// A file's bytes as an async sequence of 1 MiB buffers, for a streamed request body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let handle: FileHandle
    let progress: (@Sendable (Int64) -> Void)?

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle
        let progress: (@Sendable (Int64) -> Void)?
        var sent: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty else { return nil }
            sent += Int64(chunk.count)
            progress?(sent)
            return ByteBuffer(data: chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle, progress: progress) }
}
