import Foundation

/// Synchronous code that must wait for PostgresNIO: an importer parses on its own thread
/// while it writes, a migration reads SQLite inside one read transaction while it copies.
/// The synchronous part runs on a thread of its own (never one of the cooperative pool's),
/// which may then block on the async operations it starts.
enum ThreadBridge {
    /// Runs `body` on a new thread and returns its result.
    static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Blocks the calling thread, which `onOwnThread` started, until `operation` ends.
    static func wait<R: Sendable>(_ operation: @escaping @Sendable () async throws -> R) throws -> R {
        let outcome = Outcome<R>()
        Task {
            do { outcome.result = .success(try await operation()) } catch { outcome.result = .failure(error) }
            outcome.done.signal()
        }
        outcome.done.wait()
        return try outcome.result!.get()
    }
}

/// A result handed from a task to the thread waiting for it.
private final class Outcome<R: Sendable>: @unchecked Sendable {
    // @unchecked: `result` is written once by the task before `done` is signalled and read by
    // the waiting thread only after.
    var result: Result<R, any Error>?
    let done = DispatchSemaphore(value: 0)
}
