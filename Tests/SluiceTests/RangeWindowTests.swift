import Foundation
import Testing

@testable import Sluice

/// The window logic on its own: how many range requests are in flight, in which order
/// their elements come out, and what a short answer does.
@Suite struct RangeWindowTests {
    actor Recorder {
        var inFlight = 0
        var peak = 0
        var requested: [Range<Int>] = []

        func begin(_ range: Range<Int>) {
            inFlight += 1
            peak = max(peak, inFlight)
            requested.append(range)
        }

        func end() { inFlight -= 1 }
    }

    @Test(arguments: [1, 3, 8])
    func keepsAtMostPrefetchRequestsInFlight(prefetch: Int) async throws {
        let recorder = Recorder()
        let stream = EpochStream<Int>(
            fetch: { range in
                await recorder.begin(range)
                // Later ranges answer sooner: order must come from the window, not from arrival.
                try await Task.sleep(for: .milliseconds(range.lowerBound % 30 == 0 ? 5 : 1))
                await recorder.end()
                return Array(range)
            }, indices: 0..<1000, prefetch: prefetch, rangeSize: 10, progress: nil)
        var seen: [Int] = []
        for try await index in stream { seen.append(index) }
        #expect(seen == Array(0..<1000))
        #expect(await recorder.peak <= prefetch)
        #expect(await recorder.peak == prefetch || prefetch == 1)
        #expect(await recorder.requested.first == 0..<10, "a small first range for a fast first item")
        #expect(await recorder.requested.count == 100)
    }

    @Test func startsWhereTheIndicesStartAndCountsProgress() async throws {
        let progress = StreamProgress(delivered: 40)
        let stream = EpochStream<Int>(
            fetch: { Array($0) }, indices: 40..<95, prefetch: 2, rangeSize: 16, progress: progress)
        var seen: [Int] = []
        for try await index in stream {
            seen.append(index)
            if index == 60 { break }
        }
        #expect(seen == Array(40...60))
        #expect(progress.value == 61)
    }

    @Test func aShortAnswerIsAnError() async throws {
        let stream = EpochStream<Int>(
            fetch: { Array($0.dropLast()) }, indices: 0..<50, prefetch: 2, rangeSize: 10, progress: nil)
        await #expect(throws: SluiceError.self) {
            for try await _ in stream {}
        }
    }

    @Test func cancellingTheConsumerCancelsTheRequests() async throws {
        let recorder = Recorder()
        let consumer = Task {
            let stream = EpochStream<Int>(
                fetch: { range in
                    await recorder.begin(range)
                    defer { Task { await recorder.end() } }
                    try await Task.sleep(for: .seconds(60))
                    return Array(range)
                }, indices: 0..<1000, prefetch: 4, rangeSize: 10, progress: nil)
            for try await _ in stream {}
        }
        while await recorder.requested.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        while await recorder.inFlight > 0 { try await Task.sleep(for: .milliseconds(5)) }
    }
}
