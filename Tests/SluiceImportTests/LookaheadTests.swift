import Foundation
import Synchronization
import Testing

@testable import SluiceImport

/// `Lookahead`: values in order whatever order the workers finish in, a failure at its own
/// index, never more than the window ahead, and threads that end when the consumer leaves.
@Suite struct LookaheadTests {
    struct Refused: Error, Equatable { let index: Int }

    @Test func valuesComeInOrderWhicheverWorkerFinishesFirst() throws {
        // Early indices take longest, so the workers finish out of order.
        let lookahead = Lookahead(count: 200, window: 8, workers: 3) { index in
            if index % 7 == 0 { usleep(2_000) }
            return index * index
        }
        defer { lookahead.stop() }
        let values = try (0..<200).map { _ in try lookahead.next() }
        #expect(values == (0..<200).map { $0 * $0 })
    }

    @Test func aFailureComesAtItsIndexAfterEveryValueBeforeIt() throws {
        let lookahead = Lookahead(count: 100, window: 16, workers: 2) { index in
            if index == 41 { throw Refused(index: index) }
            usleep(UInt32(index % 3) * 500)
            return index
        }
        defer { lookahead.stop() }
        for expected in 0..<41 { #expect(try lookahead.next() == expected) }
        #expect(throws: Refused(index: 41)) { try lookahead.next() }
    }

    @Test func workStaysWithinTheWindow() throws {
        let started = Mutex(0)
        let lookahead = Lookahead(count: 1_000, window: 4, workers: 2) { index in
            started.withLock { $0 = max($0, index + 1) }
            return index
        }
        defer { lookahead.stop() }
        for taken in 1...50 {
            _ = try lookahead.next()
            usleep(200)
            let ahead = started.withLock { $0 } - taken
            #expect(ahead <= 4, "\(ahead) values computed ahead of the consumer, window 4")
        }
    }

    @Test func stopEndsTheWorkersOfAConsumerThatLeftEarly() throws {
        let running = Mutex(0)
        let lookahead = Lookahead(count: 1_000_000, window: 2, workers: 2) { index in
            running.withLock { $0 += 1 }
            return index
        }
        _ = try lookahead.next()
        lookahead.stop()
        usleep(50_000)
        let after = running.withLock { $0 }
        usleep(50_000)
        #expect(running.withLock { $0 } == after, "no work after stop()")
        #expect(after <= 4, "at most the window and one value per worker: \(after)")
    }
}
