import Foundation
import Testing

@testable import Sluice

/// The window logic on its own: how many requests are in flight, and what a short page does.
@Suite struct PageWindowTests {
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

    static func page(_ range: Range<Int>, count: Int, limit: Int = 1 << 40) -> ItemPage {
        let end = min(range.upperBound, count, range.lowerBound + limit)
        let items = (range.lowerBound..<max(range.lowerBound, end)).map { position in
            Item(
                position: position,
                file: File(id: Int64(position), projectID: "p", type: .image, name: "\(position)", media: Media(),
                           createdAt: Timestamp(milliseconds: 0), updatedAt: Timestamp(milliseconds: 0)),
                instances: [])
        }
        return ItemPage(datasetID: 1, start: range.lowerBound, end: max(range.lowerBound, end), count: count, items: items)
    }

    @Test(arguments: [1, 3, 8])
    func keepsAtMostPrefetchRequestsInFlight(prefetch: Int) async throws {
        let recorder = Recorder()
        let stream = ItemStream(
            fetch: { range in
                await recorder.begin(range)
                try await Task.sleep(for: .milliseconds(2))
                await recorder.end()
                return Self.page(range, count: 1000)
            }, start: 0, end: nil, prefetch: prefetch, pageSize: 10)
        var positions: [Int] = []
        for try await item in stream { positions.append(item.position) }
        #expect(positions == Array(0..<1000))
        #expect(await recorder.peak <= prefetch)
        #expect(await recorder.peak == prefetch || prefetch == 1)
        #expect(await recorder.requested.first == 0..<10, "a small first page for a fast first item")
    }

    @Test func followsPagesTheServerClipped() async throws {
        let stream = ItemStream(
            fetch: { range in Self.page(range, count: 95, limit: 7) }, start: 0, end: nil, prefetch: 4, pageSize: 20)
        var positions: [Int] = []
        for try await item in stream { positions.append(item.position) }
        #expect(positions == Array(0..<95))
    }

    @Test func retriedPagesLoseAndRepeatNothing() async throws {
        // Every third request fails once; the window retries the same range.
        actor Flaky {
            var calls = 0
            func shouldFail() -> Bool {
                calls += 1
                return calls % 3 == 0
            }
        }
        let flaky = Flaky()
        let stream = ItemStream(
            fetch: { range in
                var attempts = 0
                while true {
                    attempts += 1
                    if await flaky.shouldFail(), attempts < 3 { continue }
                    return Self.page(range, count: 200)
                }
            }, start: 0, end: nil, prefetch: 3, pageSize: 9)
        var positions: [Int] = []
        for try await item in stream { positions.append(item.position) }
        #expect(positions == Array(0..<200))
    }
}
