import Foundation

/// Wakes the tasks of this process that wait for a dataset's next change (long polls of
/// the change feed) as soon as a write through this process commits.
///
/// It carries no data: a woken task reads the store. Writes by another process on the same
/// database never reach it, so waiters also poll the store now and then.
public final class ChangeNotifier: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only with `lock` held.
    private let lock = NSLock()
    /// Advances on every notification.
    private var generation: UInt64 = 0
    /// The generation of each dataset's last notification.
    private var lastNotified: [Int64: UInt64] = [:]
    private var waiters: [UInt64: Waiter] = [:]
    private var nextWaiter: UInt64 = 0

    private enum Waiter {
        /// Registered; its continuation is not made yet.
        case pending(datasetID: Int64)
        case waiting(datasetID: Int64, CheckedContinuation<Void, Never>)
        /// Cancelled before its continuation was made.
        case cancelled
    }

    /// A point in the history of notifications; see `wait(for:after:timeout:)`.
    public struct Mark: Sendable, Hashable {
        let generation: UInt64
    }

    public init() {}

    /// Now, in the history of notifications. Take it before reading the store, then wait
    /// after it: a commit between the read and the wait is not missed.
    public func mark() -> Mark {
        lock.withLock { Mark(generation: generation) }
    }

    /// Wakes every task waiting for one of `datasetIDs`.
    public func notify(datasetIDs: some Sequence<Int64>) {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            generation += 1
            let datasets = Set(datasetIDs)
            for id in datasets { lastNotified[id] = generation }
            var woken: [CheckedContinuation<Void, Never>] = []
            for (key, waiter) in waiters {
                if case .waiting(let datasetID, let continuation) = waiter, datasets.contains(datasetID) {
                    waiters[key] = nil
                    woken.append(continuation)
                }
            }
            return woken
        }
        // Resumed outside the lock: a resumed task may call back in at once.
        for continuation in woken { continuation.resume() }
    }

    /// Returns when the dataset is notified after `mark` (at once if it already was), when
    /// `timeout` has passed, or when the calling task is cancelled, whichever comes first:
    /// true for a notification.
    @discardableResult
    public func wait(for datasetID: Int64, after mark: Mark, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.notification(for: datasetID, after: mark)
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let notified = await group.next() ?? false
            group.cancelAll()
            return notified
        }
    }

    private func notification(for datasetID: Int64, after mark: Mark) async {
        let key: UInt64 = lock.withLock {
            nextWaiter += 1
            waiters[nextWaiter] = .pending(datasetID: datasetID)
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    guard case .pending = waiters[key] else {
                        // Cancelled meanwhile.
                        waiters[key] = nil
                        return true
                    }
                    if let last = lastNotified[datasetID], last > mark.generation {
                        waiters[key] = nil
                        return true
                    }
                    waiters[key] = .waiting(datasetID: datasetID, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
                switch waiters[key] {
                case .waiting(_, let continuation):
                    waiters[key] = nil
                    return continuation
                case .pending:
                    waiters[key] = .cancelled
                    return nil
                case .cancelled, nil:
                    // Already woken by a notification.
                    return nil
                }
            }
            continuation?.resume()
        }
    }
}
