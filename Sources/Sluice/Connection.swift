import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// One server's HTTP access: JSON GETs with retries on transient failures.
///
/// Requests go through AsyncHTTPClient's connection pool, so handles made from one
/// `Project` share keep-alive connections.
struct Connection: Sendable {
    let configuration: ClientConfiguration
    let client: HTTPClient

    init(configuration: ClientConfiguration, client: HTTPClient = .shared) {
        self.configuration = configuration
        self.client = client
    }

    private static let decoder = JSONDecoder()

    /// GETs `path` (below the host) and decodes the JSON reply. `timeout`, when given,
    /// replaces the configured request timeout: a long poll is meant to take long.
    func get<T: Decodable & Sendable>(_ path: String, as type: T.Type = T.self, timeout: Duration? = nil) async throws -> T {
        let body = try await getBytes(path, timeout: timeout)
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
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(json)))
        let body = try await send(request, path: path)
        do {
            return try Self.decoder.decode(T.self, from: Data(buffer: body, byteTransferStrategy: .noCopy))
        } catch {
            throw SluiceError.badResponse("\(path): \(error)")
        }
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

    private func makeRequest(_ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.host + path)
        if let key = configuration.apiKey {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        return request
    }

    /// One try; `TransientFailure` for what a retry may cure.
    private func send(_ request: HTTPClientRequest, path: String, timeout: Duration? = nil) async throws -> ByteBuffer {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            let timeout = timeout ?? configuration.requestTimeout
            response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            body = try await response.body.collect(upTo: 1 << 30)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError where error == .cancelled {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw TransientFailure(reason: "\(error)")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return body }
        if [502, 503, 504].contains(status) {
            throw TransientFailure(reason: "HTTP \(status) from \(path)")
        }
        let reply = try? Self.decoder.decode(ErrorResponse.self, from: Data(buffer: body))
        let code = reply?.error.code ?? "http_\(status)"
        let message = reply?.error.message ?? response.status.reasonPhrase
        if code == "bad_query", case .object(let detail)? = reply?.error.detail {
            let column = detail["column"]?.numberValue.map { Int($0) } ?? 0
            let suggestions: [String] =
                if case .array(let list)? = detail["suggestions"] { list.compactMap(\.stringValue) } else { [] }
            throw SluiceError.badQuery(message: message, column: column, suggestions: suggestions)
        }
        if status == 404, code != "position_out_of_range" { throw SluiceError.notFound(message) }
        throw SluiceError.server(status: status, code: code, message: message)
    }

    private struct TransientFailure: Error {
        let reason: String
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
