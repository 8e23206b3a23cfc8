import Foundation

/// A bounded, blocking hand-over of batches from one producer thread to one consumer thread.
///
/// Imports parse on one core while the store inserts on the other. Memory stays bounded:
/// the producer blocks while `capacity` batches wait.
final class RecordPipe<Element: Sendable>: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only with `condition` locked.
    private let condition = NSCondition()
    private var batches: [[Element]] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Hands a batch over; false when the consumer has given up (the producer should stop).
    func send(_ batch: [Element]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity, !cancelled { condition.wait() }
        guard !cancelled else { return false }
        batches.append(batch)
        condition.broadcast()
        return true
    }

    /// Ends the stream, with the producer's error if it failed.
    func finish(throwing error: (any Error)? = nil) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; nil at the end; rethrows the producer's error after the batches before it.
    func receive() throws -> [Element]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty, !finished { condition.wait() }
        if !batches.isEmpty {
            let batch = batches.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// The consumer stops: a blocked or later `send` returns false.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
