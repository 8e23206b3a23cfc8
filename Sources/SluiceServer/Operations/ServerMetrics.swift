import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The server's metrics, recorded through swift-metrics into a Prometheus registry of this
/// server's own (no process-wide bootstrap, so tests run many servers in one process) and
/// served at `/metrics` in Prometheus' text format.
public struct ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    /// Streams and follows open now, by kind.
    /// The request series made so far, by method, route and status: made once, not looked up
    /// in the registry on every request.
    private let requestSeries = NIOLockedValueBox<[String: RequestSeries]>([:])

    struct RequestSeries {
        let requests: CoreMetrics.Counter
        let bytes: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    let openStreams: Meter
    let openFollows: Meter
    let importsRunning: Meter

    public init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // From a cached item read to a long epoch stream.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.registry = registry
        self.factory = factory
        openStreams = Meter(label: "sluice_open_streams", factory: factory)
        openFollows = Meter(label: "sluice_open_follows", factory: factory)
        importsRunning = Meter(label: "sluice_imports_running", factory: factory)
    }

    /// One answered request: its route template (never the path, which would make a series
    /// per dataset and file), status and time until its body was written.
    func recordRequest(method: String, route: String, status: Int, duration: Duration, bytes: Int) {
        let factory = self.factory
        let series = requestSeries.withLockedValue { all in
            let key = "\(method) \(route) \(status)"
            if let known = all[key] { return known }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let made = RequestSeries(
                requests: CoreMetrics.Counter(label: "sluice_http_requests_total", dimensions: dimensions, factory: factory),
                bytes: CoreMetrics.Counter(label: "sluice_http_response_bytes_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(
                    label: "sluice_http_request_duration_seconds", dimensions: [("method", method), ("route", route)],
                    factory: factory))
            all[key] = made
            return made
        }
        series.requests.increment()
        series.bytes.increment(by: bytes)
        series.duration.record(duration: duration)
    }

    /// Items and bytes a stream sent, by format (`ndjson`, `records`, `tensors`).
    func recordStreamed(items: Int, bytes: Int, format: String) {
        Counter(label: "sluice_streamed_items_total", dimensions: [("format", format)], factory: factory)
            .increment(by: items)
        Counter(label: "sluice_streamed_bytes_total", dimensions: [("format", format)], factory: factory)
            .increment(by: bytes)
    }

    /// A slice looked up in the slice cache: `hit` when its positions were held.
    func recordSliceLookup(hit: Bool) {
        Counter(label: "sluice_slice_cache_lookups_total", dimensions: [("result", hit ? "hit" : "miss")], factory: factory)
            .increment()
    }

    /// Files and instances an import through the server has written so far (its progress).
    func recordImported(files: Int, instances: Int) {
        Counter(label: "sluice_imported_files_total", factory: factory).increment(by: files)
        Counter(label: "sluice_imported_instances_total", factory: factory).increment(by: instances)
    }

    /// The registry in Prometheus' text format, with the store's size read now.
    func exposition(storeBytes: Int64) -> [UInt8] {
        Gauge(label: "sluice_store_bytes", factory: factory).record(storeBytes)
        return registry.emitToBuffer()
    }
}
