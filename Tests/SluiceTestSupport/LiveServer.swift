import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SluiceServer
import SluiceStore

/// Runs a real server for `store` on 127.0.0.1 with a free port, calls `body` with its base
/// URL, then shuts the server down gracefully.
public func withLiveServer<T: Sendable>(
    store: any Store, port: Int = 0, configuration: ServerConfiguration = ServerConfiguration(),
    _ body: @escaping @Sendable (String) async throws -> T
) async throws -> T {
    var logger = Logger(label: "sluice-test")
    logger.logLevel = .error
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = SluiceAPI.buildApplication(
        store: store, configuration: ServerConfiguration(
            host: "127.0.0.1", port: port, maxPageSize: configuration.maxPageSize,
            defaultPageSize: configuration.defaultPageSize),
        logger: logger
    ) { port in
        continuation.yield(port)
        continuation.finish()
    }
    let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await services.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw LiveServerError.didNotStart }
        let result: T
        do {
            result = try await body("http://127.0.0.1:\(bound)")
        } catch {
            await services.triggerGracefulShutdown()
            throw error
        }
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        return result
    }
}

/// A TCP port that was free a moment ago (bound to port 0 and released).
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard bind(fd, pointer, length) == 0 else { return -1 }
            return getsockname(fd, pointer, &length)
        }
    }
    guard bound == 0 else { throw LiveServerError.noFreePort }
    return Int(UInt16(bigEndian: address.sin_port))
}

public enum LiveServerError: Error {
    case didNotStart
    case noFreePort
}
