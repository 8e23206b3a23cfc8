import Foundation
import Synchronization

extension Array where Element: Sendable {
    /// `transform` of every element on `workers` threads, in the elements' order, each failure
    /// kept at its place. The parser threads store a batch's media with it: copying and hashing
    /// images, most of it in the kernel, while the store's writer inserts the batch before.
    func concurrentResults<Value: Sendable>(
        workers: Int = 2, _ transform: @Sendable (Element) throws -> Value
    ) -> [Result<Value, any Error>] {
        guard !isEmpty else { return [] }
        let results = Mutex([Result<Value, any Error>?](repeating: nil, count: count))
        let workers = Swift.max(1, Swift.min(workers, count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in stride(from: worker, to: count, by: workers) {
                let result = Result { try transform(self[index]) }
                results.withLock { $0[index] = result }
            }
        }
        return results.withLock { $0.map { $0! } }
    }
}
