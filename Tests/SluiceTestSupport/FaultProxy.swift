// FaultProxy.swift: a fault-injecting TCP proxy for tests. Self-contained: needs only NIOCore, NIOPosix and
// NIOConcurrencyHelpers (swift-nio), so it can be dropped into any test-support target.
//
// Every connection accepted on 127.0.0.1:<free port> is forwarded byte for byte to `host:port`, both ways.
// Faults hit only the server→client direction, at byte offsets drawn from a seeded plan:
//   - gaps between fault points are uniform integers in [mean/2, mean*3/2] (at least 1), from a SplitMix64
//     seeded per connection with (plan.seed, connection index); the index counts accepted connections from 0;
//   - at each fault point a second draw u ∈ [0, 1) picks a stall if u < stallProbability, else a drop;
//   - a drop is done only while fewer than `maxDrops` were done by this proxy in total; after that the proxy
//     forwards faithfully (stalls may still happen: they delay bytes but never alter them);
//   - drop = both sockets closed with SO_LINGER 0 (an RST): the client gets at most `offset` bytes of that
//     response, then a reset or EOF (bytes still queued in NIO or the kernel when the RST goes are lost);
//   - stall = forwarding to the client pauses for `stallDuration` (the server side then backs up).
// Offsets are deterministic per connection index; which index gets which fault depends on accept order, so
// tests that want exact outcomes open their connections one after another.
// EOFs are passed on as half-closes (queued bytes first); a reset or full close of the client's socket closes
// the server's; the end of `withFaultProxy` closes the listener and every connection, and cuts stalls short.
// Backpressure: NIOAsyncChannel on both sides. The writer awaits the peer's writability, and the inbound
// stream stops reading from the socket above its watermark, so each direction buffers only a few reads.
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where and which faults a ``FaultProxy`` injects (see the top of this file).
public struct FaultPlan: Sendable, Hashable {
    public var seed: UInt64
    /// Mean distance in bytes between two fault points of one connection's server→client stream.
    public var meanBytesBetweenFaults: Int
    /// Drops over the whole life of the proxy; 0 = never drop.
    public var maxDrops: Int
    /// Chance that a fault point is a stall rather than a drop (0...1).
    public var stallProbability: Double
    public var stallDuration: Duration

    public init(
        seed: UInt64 = 0, meanBytesBetweenFaults: Int = 256 * 1024, maxDrops: Int = 0,
        stallProbability: Double = 0, stallDuration: Duration = .milliseconds(100)
    ) {
        precondition(meanBytesBetweenFaults > 0, "meanBytesBetweenFaults must be positive")
        precondition(maxDrops >= 0 && (0...1).contains(stallProbability), "bad maxDrops or stallProbability")
        self.seed = seed
        self.meanBytesBetweenFaults = meanBytesBetweenFaults
        self.maxDrops = maxDrops
        self.stallProbability = stallProbability
        self.stallDuration = stallDuration
    }

    /// Forwards everything, injects nothing.
    public static let faithful = FaultPlan()
}

/// A running proxy, handed to the body of ``withFaultProxy(target:port:plan:_:)``.
public final class FaultProxy: Sendable {
    /// Counters, taken together under one lock.
    public struct Stats: Sendable, Hashable {
        public var connectionsAccepted = 0
        public var connectionsOpen = 0  // accepted and not yet fully closed (both sockets)
        public var drops = 0
        public var stalls = 0  // counted when the stall starts
        public var bytesToClient = 0  // handed to the client's socket (a drop may lose the last of them)
        public var bytesToServer = 0
        public var bytesForwarded: Int { bytesToClient + bytesToServer }
    }

    public let plan: FaultPlan
    public let targetHost: String
    public let targetPort: Int
    /// A consistent snapshot of the counters.
    public var stats: Stats { state.withLockedValue { $0.stats } }

    private struct State {
        var stats = Stats()
        var open: [ObjectIdentifier: any Channel] = [:]
        var closing = false
    }
    private let state = NIOLockedValueBox(State())
    fileprivate static let channelConfiguration = NIOAsyncChannel<ByteBuffer, ByteBuffer>.Configuration(
        backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4), isOutboundHalfClosureEnabled: true)
    private struct Dropped: Error {}
    fileprivate typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    fileprivate init(host: String, port: Int, plan: FaultPlan) {
        (targetHost, targetPort, self.plan) = (host, port, plan)
    }

    private func update<R>(_ body: (inout Stats) -> R) -> R { state.withLockedValue { body(&$0.stats) } }

    /// Tracks an open channel so that shutdown can close it; closes it at once if shutdown has begun.
    private func register(_ channel: any Channel) -> Bool {
        let ok = state.withLockedValue { s in
            if !s.closing { s.open[ObjectIdentifier(channel)] = channel }
            return !s.closing
        }
        if !ok { channel.close(promise: nil) }
        return ok
    }
    private func reserveDrop() -> Bool {
        update { s in
            guard s.drops < plan.maxDrops else { return false }
            s.drops += 1
            return true
        }
    }
    private func unregister(_ channel: any Channel) {
        _ = state.withLockedValue { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    fileprivate func shutdown(listener: any Channel) async {
        let channels = state.withLockedValue { s in
            s.closing = true
            defer { s.open.removeAll() }
            return Array(s.open.values)
        }
        try? await listener.close()
        for channel in channels { try? await channel.close() }
    }

    fileprivate func acceptLoop(_ listener: NIOAsyncChannel<Connection, Never>) async {
        try? await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await client in inbound {
                    let index = update { $0.connectionsAccepted += 1; return $0.connectionsAccepted - 1 }
                    guard register(client.channel) else { continue }
                    update { $0.connectionsOpen += 1 }
                    group.addTask { await self.serve(client, index: index) }
                }
                group.cancelAll()  // the listener is closed: shutdown. Cut stalls short too.
            }
        }
    }

    private func serve(_ client: Connection, index: Int) async {
        defer { unregister(client.channel); update { $0.connectionsOpen -= 1 } }
        let server: Connection
        do {
            server = try await ClientBootstrap(group: client.channel.eventLoop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: targetHost, port: targetPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Connection(wrappingChannelSynchronously: channel, configuration: Self.channelConfiguration)
                    }
                }
        } catch {
            try? await client.channel.close()
            return
        }
        defer { unregister(server.channel) }
        guard register(server.channel) else { client.channel.close(promise: nil); return }
        // Once the client's socket is closed (e.g. reset after its EOF) nothing can reach it: drop the server's.
        client.channel.closeFuture.whenComplete { _ in server.channel.close(promise: nil) }
        try? await client.executeThenClose { clientIn, clientOut in
            try await server.executeThenClose { serverIn, serverOut in
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask {  // client → server, faithful
                        do {
                            for try await chunk in clientIn {
                                let count = chunk.readableBytes
                                // The server went away: stop this way, let the server's last bytes reach the client.
                                do { try await serverOut.write(chunk) } catch { return }
                                self.update { $0.bytesToServer += count }
                            }
                            try? await Self.flushed(server.channel)
                            serverOut.finish()  // the client half-closed: half-close towards the server
                        } catch {  // reading from the client failed (a reset): nothing can reach it any more
                            client.channel.close(promise: nil)
                            server.channel.close(promise: nil)
                        }
                    }
                    tasks.addTask {
                        try await self.forwardWithFaults(serverIn, to: clientOut, client.channel, server.channel, index)
                    }
                    do {
                        try await tasks.waitForAll()
                    } catch {
                        client.channel.close(promise: nil)
                        server.channel.close(promise: nil)
                        throw error
                    }
                }
            }
        }
    }

    private func forwardWithFaults(
        _ input: NIOAsyncChannelInboundStream<ByteBuffer>, to output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        _ client: any Channel, _ server: any Channel, _ index: Int
    ) async throws {
        var rng = FaultPlanRandom(seed: plan.seed, stream: UInt64(index))
        let injects = plan.maxDrops > 0 || plan.stallProbability > 0
        let low = max(1, plan.meanBytesBetweenFaults / 2)
        let high = max(low, plan.meanBytesBetweenFaults + plan.meanBytesBetweenFaults / 2)
        var untilFault = injects ? rng.int(in: low...high) : Int.max
        for try await var chunk in input {
            while chunk.readableBytes > 0 {
                let count = min(chunk.readableBytes, untilFault)
                try await output.write(chunk.readSlice(length: count)!)
                update { $0.bytesToClient += count }
                untilFault -= count
                guard untilFault == 0 else { continue }
                untilFault = rng.int(in: low...high)
                if rng.unit() < plan.stallProbability {
                    update { $0.stalls += 1 }
                    try await Task.sleep(for: plan.stallDuration)
                } else if reserveDrop() {
                    for channel in [client, server] {
                        if let socket = channel as? any SocketOptionProvider {
                            try? await socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                        }
                        channel.close(promise: nil)
                    }
                    throw Dropped()
                }
            }
        }
        try await Self.flushed(client)
        output.finish()  // half-close towards the client, as the server did
    }

    /// Returns once every write already queued on `channel` has reached the socket. Needed before a
    /// half-close: NIO turns it into a full close (dropping queued writes) when the input is already closed.
    private static func flushed(_ channel: any Channel) async throws {
        try await channel.writeAndFlush(ByteBuffer()).get()
    }
}

/// Runs `body` with a proxy to `host:port` listening on 127.0.0.1 (port passed to `body`), then closes the
/// listening socket and every connection still open, also when `body` throws.
public func withFaultProxy<T: Sendable>(
    target host: String, port: Int, plan: FaultPlan,
    _ body: @Sendable (_ proxyPort: Int, _ proxy: FaultProxy) async throws -> T
) async throws -> T {
    let proxy = FaultProxy(host: host, port: port, plan: plan)
    let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel, configuration: FaultProxy.channelConfiguration)
            }
        }
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { tasks in
        tasks.addTask { await proxy.acceptLoop(listener) }
        let result: Result<T, any Error>
        do {
            guard let proxyPort = listener.channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
            result = .success(try await body(proxyPort, proxy))
        } catch {
            result = .failure(error)
        }
        await proxy.shutdown(listener: listener.channel)
        try await tasks.waitForAll()
        return try result.get()
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014), inlined so that plans replay the same on every platform.
private struct FaultPlanRandom {  // SplitMix64
    private var state: UInt64

    init(seed: UInt64, stream: UInt64) {
        state = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        state = next()  // decorrelate neighbouring streams
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (modulo bias below 2^-40 for ranges under 2^24 wide: irrelevant here).
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
