import Foundation

/// `work(0)`, `work(1)`, … computed on threads of their own, at most `window` ahead of the
/// consumer, which takes them in order with `next()`.
///
/// The folder importers run on the store's writer thread, which inserts rows; reading an
/// image's annotation file and copying and hashing its media (three quarters of an import's CPU
/// time, a third of it in the kernel making files and folders) need no database, so they run
/// here, ahead, on two threads beside the writer's. Results come back in order and a failure
/// comes back at its own index, so an import refuses the same file, at the same point, as it
/// would without this.
///
/// The store's writer thread is synchronous (a GRDB write, a PostgreSQL transaction driven
/// from a thread): hence a thread and a condition variable, not tasks.
final class Lookahead<Value: Sendable>: @unchecked Sendable {
    // Every stored property below is read and written with `condition` locked.
    private let condition = NSCondition()
    /// Results not yet taken, by index.
    private var ready: [Int: Result<Value, any Error>] = [:]
    /// The next index a worker takes.
    private var claimed = 0
    private var consumed = 0
    private var stopped = false
    private let count: Int
    private let window: Int

    /// Starts computing `work(i)` for `i` in `0..<count` on `workers` threads. Each result is
    /// computed by one worker; they may finish out of order, `next()` hands them out in order.
    init(count: Int, window: Int = 32, workers: Int = 2, work: @escaping @Sendable (Int) throws -> Value) {
        self.count = count
        self.window = max(1, window)
        for worker in 0..<max(1, min(workers, count)) {
            let thread = Thread { [self] in run(work) }
            thread.name = "sluice-lookahead-\(worker)"
            thread.start()
        }
    }

    private func run(_ work: @Sendable (Int) throws -> Value) {
        while true {
            condition.lock()
            while !stopped && claimed < count && claimed - consumed >= window { condition.wait() }
            guard !stopped, claimed < count else {
                condition.unlock()
                return
            }
            let index = claimed
            claimed += 1
            condition.unlock()
            let result = Result { try work(index) }
            condition.lock()
            ready[index] = result
            // Nothing after a failure is needed: the consumer stops at it.
            if case .failure = result { claimed = count }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next value in order, waiting for it; throws what its work threw.
    func next() throws -> Value {
        condition.lock()
        defer { condition.unlock() }
        precondition(consumed < count, "Lookahead.next() past its \(count) values")
        while ready[consumed] == nil { condition.wait() }
        let result = ready.removeValue(forKey: consumed)!
        consumed += 1
        condition.broadcast()
        return try result.get()
    }

    /// Stops the work after the values in hand: call it when the consumer leaves early (a
    /// fault, a cancellation), so the threads end instead of waiting for a `next()` that never comes.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
