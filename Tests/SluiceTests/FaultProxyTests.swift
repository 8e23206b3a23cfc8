import SluiceTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

// MARK: - Tiny servers and a client

/// 5 MiB of `i % 251`: a prime period, so a shifted, repeated or lost chunk never lines up again.
let blobSize = 5 * 1024 * 1024
let blob: ByteBuffer = {
    let period = (0..<251).map { UInt8($0) }
    var buffer = ByteBufferAllocator().buffer(capacity: blobSize + period.count)
    while buffer.readableBytes < blobSize { buffer.writeBytes(period) }
    return buffer.getSlice(at: 0, length: blobSize)!
}()

/// On connect, writes `blob` and closes once it is all written.
final class BlobHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(blob)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Writes back what it reads.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
}

/// Fulfils `promise` with the first bytes read (or fails it if the connection ends before).
final class FirstReadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let promise: EventLoopPromise<ByteBuffer>
    private var done = false
    init(_ promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done { done = true; promise.succeed(Self.unwrapInboundIn(data)) }
    }
    func channelInactive(context: ChannelHandlerContext) {
        if !done { done = true; promise.fail(ChannelError.eof) }
        context.fireChannelInactive()
    }
}

enum ServerKind: Sendable { case blob, echo }

@discardableResult
func withServer<T: Sendable>(_ kind: ServerKind, _ body: (Int) async throws -> T) async throws -> T {
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)  // a client's EOF must not cut the blob
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                switch kind {
                case .blob: try channel.pipeline.syncOperations.addHandler(BlobHandler())
                case .echo: try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
        }
        .bind(host: "127.0.0.1", port: 0).get()
    do {
        let result = try await body(listener.localAddress!.port!)
        try await listener.close()
        return result
    } catch {
        try? await listener.close()
        throw error
    }
}

/// `halfClosure`: finishing the writer sends an EOF (else it does nothing, and only the close is seen).
func connect(_ port: Int, halfClosure: Bool = true) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
    try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.allowRemoteHalfClosure, value: true)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: halfClosure))
            }
        }
}

struct Download: Sendable {
    var count = 0
    var intact = true  // every byte received so far matches `blob` at its offset
    var failed = false  // ended by an error (a reset) rather than EOF
    var complete: Bool { count == blobSize && intact && !failed }
}

/// Reads until EOF or error, checking each byte against `blob`; `halfClose` first sends an EOF (as a client
/// that has sent its whole request may do).
func download(_ port: Int, halfClose: Bool = false) async throws -> Download {
    try await connect(port).executeThenClose { inbound, outbound in
        if halfClose { outbound.finish() }
        var result = Download()
        do {
            for try await chunk in inbound {
                let n = chunk.readableBytes
                if result.count + n > blobSize || blob.getSlice(at: result.count, length: n) != chunk {
                    result.intact = false
                }
                result.count += n
            }
        } catch {
            result.failed = true
        }
        return result
    }
}

/// Polls `condition` every 10 ms for up to 10 s (a generous bound: it only makes a failure end).
func eventually(_ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        if ContinuousClock.now > deadline { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}

// MARK: - Tests

@Suite(.timeLimit(.minutes(1)))
struct FaultProxyTests {
    @Test func noFaultsForwardsEveryByte() async throws {
        try await withServer(.blob) { serverPort in
            try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: .faithful) { proxyPort, proxy in
                let downloads = try await withThrowingTaskGroup(of: Download.self) { group in
                    for i in 0..<3 { group.addTask { try await download(proxyPort, halfClose: i == 0) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(downloads.count == 3)
                #expect(try await eventually { proxy.stats.connectionsOpen == 0 })
                for d in downloads { #expect(d.complete, "\(d)") }
                let stats = proxy.stats
                #expect(stats.connectionsAccepted == 3)
                #expect(stats.bytesToClient == 3 * blobSize)
                #expect(stats.drops == 0 && stats.stalls == 0)
            }
        }
    }

    @Test func clientToServerBytesAreForwardedToo() async throws {
        let size = 1 << 20
        try await withServer(.echo) { serverPort in
            try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: .faithful) { proxyPort, proxy in
                try await connect(proxyPort).executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {  // send while the other side reads: both directions under backpressure
                            var offset = 0
                            while offset < size {
                                try await outbound.write(blob.getSlice(at: offset, length: 64 * 1024)!)
                                offset += 64 * 1024
                            }
                        }
                        var received = 0
                        for try await chunk in inbound {
                            #expect(blob.getSlice(at: received, length: chunk.readableBytes) == chunk)
                            received += chunk.readableBytes
                            if received >= size { break }
                        }
                        #expect(received == size)
                        try await group.waitForAll()
                    }
                }
                #expect(proxy.stats.bytesToServer == size)
            }
        }
    }

    @Test func dropsCutConnectionsUntilTheBudgetIsSpent() async throws {
        let plan = FaultPlan(seed: 42, meanBytesBetweenFaults: 200_000, maxDrops: 10)
        try await withServer(.blob) { serverPort in
            try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: plan) { proxyPort, proxy in
                // One connection at a time, so connection i is the i-th accepted: every one of them has its
                // first fault point within 300 kB, and those points are drops while the budget lasts.
                for i in 0..<13 {
                    let d = try await download(proxyPort)
                    #expect(d.intact, "connection \(i): \(d)")
                    if i < 10 {
                        #expect(d.count <= 300_000, "connection \(i) not cut: \(d)")
                        #expect(proxy.stats.drops == i + 1)
                    } else {
                        #expect(d.complete, "connection \(i) after the budget: \(d)")
                    }
                }
                let stats = proxy.stats
                #expect(stats.drops == 10 && stats.stalls == 0 && stats.connectionsAccepted == 13)
            }
        }
    }

    @Test func stallsDelayButDoNotAlterBytes() async throws {
        let stall = Duration.milliseconds(250)
        let plan = FaultPlan(seed: 7, meanBytesBetweenFaults: 2_000_000, stallProbability: 1, stallDuration: stall)
        try await withServer(.blob) { serverPort in
            try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: plan) { proxyPort, proxy in
                let clock = ContinuousClock()
                let start = clock.now
                let d = try await download(proxyPort)
                let elapsed = clock.now - start
                #expect(d.complete, "\(d)")
                let stalls = proxy.stats.stalls
                #expect(stalls >= 1)  // the first fault point is at most 3 MB into the 5 MiB
                #expect(elapsed >= stall * stalls)
                #expect(proxy.stats.drops == 0)
            }
        }
    }

    @Test func theEndOfTheBodyCutsAStallShort() async throws {
        let plan = FaultPlan(seed: 1, meanBytesBetweenFaults: 100_000, stallProbability: 1, stallDuration: .seconds(300))
        try await withServer(.blob) { serverPort in
            let start = ContinuousClock.now
            let transfer = try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: plan) { port, proxy in
                let transfer = Task { try await download(port) }
                let stalled = try await eventually { proxy.stats.stalls == 1 }
                #expect(stalled)
                return transfer
            }
            let d = try await transfer.value
            #expect(!d.complete && d.intact, "\(d)")
            #expect(ContinuousClock.now - start < .seconds(60))
        }
    }

    @Test(arguments: [false, true])
    func aClientResetClosesTheServerSideToo(eofFirst: Bool) async throws {
        try await withServer(.echo) { serverPort in
            try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: .faithful) { proxyPort, proxy in
                let client = try await connect(proxyPort, halfClosure: eofFirst)
                try await client.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "ping"))
                    var iterator = inbound.makeAsyncIterator()
                    #expect(try await iterator.next() == ByteBuffer(string: "ping"))
                    #expect(proxy.stats.connectionsOpen == 1)
                    // Linger 0: the close at the end of this scope sends an RST; the echo server never closes.
                    let socket = try #require(client.channel as? any SocketOptionProvider)
                    try await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                }
                #expect(try await eventually { proxy.stats.connectionsOpen == 0 })
            }
        }
    }

    @Test func closesListenerAndConnectionsWhenBodyThrows() async throws {
        struct Boom: Error {}
        let open = NIOLockedValueBox<(port: Int, channel: any Channel)?>(nil)
        try await withServer(.echo) { serverPort in
            await #expect(throws: Boom.self) {
                try await withFaultProxy(target: "127.0.0.1", port: serverPort, plan: .faithful) { proxyPort, _ in
                    let firstRead = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: ByteBuffer.self)
                    let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(FirstReadHandler(firstRead))
                            }
                        }
                        .connect(host: "127.0.0.1", port: proxyPort).get()
                    open.withLockedValue { $0 = (proxyPort, client) }
                    try await client.writeAndFlush(ByteBuffer(string: "ping"))
                    #expect(try await firstRead.futureResult.get() == ByteBuffer(string: "ping"))  // path is up
                    throw Boom()  // with the client's connection still open
                }
            }
        }
        let (proxyPort, channel) = try #require(open.withLockedValue { $0 })
        try await channel.closeFuture.get()
        await #expect(throws: (any Error).self) {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: proxyPort).get().close()
        }
    }
}
