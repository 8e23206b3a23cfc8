/// The items of a dataset in position order, fetched page by page with a bounded window of
/// page requests in flight.
public struct ItemStream: AsyncSequence, Sendable {
    public typealias Element = Item

    let fetch: @Sendable (Range<Int>) async throws -> ItemPage
    let start: Int
    /// Nil: up to the count the first page reports.
    let end: Int?
    let prefetch: Int
    let pageSize: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(window: PageWindow(fetch: fetch, next: start, end: end, prefetch: prefetch, pageSize: pageSize))
    }

    /// Yields items as their pages arrive; cancelling the consuming task cancels the requests.
    public struct Iterator: AsyncIteratorProtocol {
        let window: PageWindow

        public mutating func next() async throws -> Item? {
            try await window.next()
        }
    }
}

/// The requests in flight and the page being consumed.
///
/// A class because the iterator's copies must share one window, and `deinit` is where
/// requests of an abandoned stream are cancelled.
final class PageWindow {
    private let fetch: @Sendable (Range<Int>) async throws -> ItemPage
    private var nextStart: Int
    private var end: Int?
    private let prefetch: Int
    private let pageSize: Int
    private var inFlight: [(range: Range<Int>, task: Task<ItemPage, any Error>)] = []
    private var current: [Item] = []
    private var index = 0
    /// The first page is small so the first item arrives after a small request.
    private var firstPage = true

    init(
        fetch: @escaping @Sendable (Range<Int>) async throws -> ItemPage, next: Int, end: Int?, prefetch: Int,
        pageSize: Int
    ) {
        self.fetch = fetch
        self.nextStart = next
        self.end = end
        self.prefetch = prefetch
        self.pageSize = pageSize
    }

    deinit {
        for request in inFlight { request.task.cancel() }
    }

    func next() async throws -> Item? {
        while index == current.count {
            current = []
            index = 0
            try Task.checkCancellation()
            fill()
            guard !inFlight.isEmpty else { return nil }
            let request = inFlight.removeFirst()
            let tasks = inFlight.map(\.task) + [request.task]
            let page = try await withTaskCancellationHandler {
                try await request.task.value
            } onCancel: {
                for task in tasks { task.cancel() }
            }
            guard page.start == request.range.lowerBound else {
                throw SluiceError.badResponse("asked for position \(request.range.lowerBound), got \(page.start)")
            }
            if end == nil || page.count < end! {
                // The stream stops at the count first reported (or a lower one, if it shrank).
                end = min(end ?? page.count, page.count)
                inFlight.removeAll { request in
                    guard request.range.lowerBound >= end! else { return false }
                    request.task.cancel()
                    return true
                }
                nextStart = min(nextStart, end!)
            }
            let expectedEnd = min(request.range.upperBound, end!)
            if page.end < expectedEnd {
                // The server clipped the page: ask again for the rest before anything later.
                let rest = page.end..<expectedEnd
                let fetch = self.fetch
                inFlight.insert((rest, Task { try await fetch(rest) }), at: 0)
            }
            current = page.items
        }
        defer { index += 1 }
        return current[index]
    }

    private func fill() {
        while inFlight.count < prefetch {
            if let end, nextStart >= end { return }
            // Before the count is known, request one page only: it tells the count.
            if end == nil, !inFlight.isEmpty { return }
            var size = firstPage ? min(pageSize, 32) : pageSize
            firstPage = false
            if let end { size = min(size, end - nextStart) }
            let range = nextStart..<(nextStart + size)
            let fetch = self.fetch
            inFlight.append((range, Task { try await fetch(range) }))
            nextStart += size
        }
    }
}
