/// Items of an epoch in order, fetched as ranges with a bounded window of range requests in
/// flight: memory holds at most `prefetch` ranges.
///
/// Each element delivered advances the epoch's progress, so `Epoch.state` after a `break`
/// names the next item to deliver.
public struct EpochStream<Element: Sendable>: AsyncSequence, Sendable {
    typealias Fetch = @Sendable (Range<Int>) async throws -> [Element]
    /// What to fetch and which indices, decided when iteration starts (a dataset's count is
    /// asked for then, not when the stream value is made).
    let plan: @Sendable () async throws -> (fetch: Fetch, indices: Range<Int>)
    let prefetch: Int
    let rangeSize: Int
    let progress: StreamProgress?

    init(fetch: @escaping Fetch, indices: Range<Int>, prefetch: Int, rangeSize: Int, progress: StreamProgress?) {
        self.init(plan: { (fetch, indices) }, prefetch: prefetch, rangeSize: rangeSize, progress: progress)
    }

    init(
        plan: @escaping @Sendable () async throws -> (fetch: Fetch, indices: Range<Int>), prefetch: Int, rangeSize: Int,
        progress: StreamProgress?
    ) {
        self.plan = plan
        self.prefetch = Swift.max(1, prefetch)
        self.rangeSize = Swift.max(1, rangeSize)
        self.progress = progress
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(window: RangeWindow(plan: plan, prefetch: prefetch, rangeSize: rangeSize), progress: progress)
    }

    /// Yields elements as their ranges arrive; cancelling the consuming task cancels the requests.
    public struct Iterator: AsyncIteratorProtocol {
        let window: RangeWindow<Element>
        let progress: StreamProgress?

        public mutating func next() async throws -> Element? {
            while let element = try await window.next() {
                // A removed position counts as delivered (a saved state resumes after it) but
                // is no element.
                progress?.advance()
                if let marker = element as? any RemovalMarking, marker.marksRemovedPosition { continue }
                return element
            }
            return nil
        }
    }
}

/// The items of a dataset or slice in position order.
public typealias ItemStream = EpochStream<Item>

/// The items with their media bytes.
public typealias MediaStream = EpochStream<StreamedItem>

/// Tensor records of the items (see `ItemTensors`).
public typealias TensorStream = EpochStream<TensorRecord>

/// The range requests in flight and the range being consumed.
///
/// A class because the iterator's copies must share one window, and `deinit` is where
/// requests of an abandoned stream are cancelled.
final class RangeWindow<Element: Sendable> {
    private let plan: @Sendable () async throws -> (fetch: EpochStream<Element>.Fetch, indices: Range<Int>)
    private var fetch: EpochStream<Element>.Fetch?
    private var end = 0
    private var nextStart = 0
    private let prefetch: Int
    private let rangeSize: Int
    private var inFlight: [(range: Range<Int>, task: Task<[Element], any Error>)] = []
    private var current: [Element] = []
    private var index = 0
    /// The first range is small so the first item arrives after a small request.
    private var firstRange = true

    init(
        plan: @escaping @Sendable () async throws -> (fetch: EpochStream<Element>.Fetch, indices: Range<Int>),
        prefetch: Int, rangeSize: Int
    ) {
        self.plan = plan
        self.prefetch = prefetch
        self.rangeSize = rangeSize
    }

    deinit {
        for request in inFlight { request.task.cancel() }
    }

    func next() async throws -> Element? {
        if fetch == nil {
            let (fetch, indices) = try await plan()
            self.fetch = fetch
            (nextStart, end) = (indices.lowerBound, indices.upperBound)
        }
        while index == current.count {
            current = []
            index = 0
            try Task.checkCancellation()
            fill()
            guard !inFlight.isEmpty else { return nil }
            let request = inFlight.removeFirst()
            let tasks = inFlight.map(\.task) + [request.task]
            let elements = try await withTaskCancellationHandler {
                try await request.task.value
            } onCancel: {
                for task in tasks { task.cancel() }
            }
            guard elements.count == request.range.count else {
                throw SluiceError.badResponse("asked for \(request.range.count) items at \(request.range.lowerBound), got \(elements.count)")
            }
            current = elements
        }
        defer { index += 1 }
        return current[index]
    }

    private func fill() {
        while inFlight.count < prefetch, nextStart < end {
            let size = min(firstRange ? min(rangeSize, 32) : rangeSize, end - nextStart)
            firstRange = false
            let range = nextStart..<(nextStart + size)
            guard let fetch else { return }
            inFlight.append((range, Task { try await fetch(range) }))
            nextStart += size
        }
    }
}
