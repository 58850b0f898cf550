import AuditLog
import AuditLogServices
import Foundation
import Prometheus

/// Counters and latency histograms of the API, rendered as Prometheus text by `GET /metrics`
/// together with gauges read from the log at scrape time.
public final class APIMetrics: Sendable {
    /// Upper bounds (seconds) of the request latency histogram buckets.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RequestKey: Hashable, Comparable {
        var method: String
        var route: String
        var status: Int
        static func < (a: Self, b: Self) -> Bool { (a.route, a.method, a.status) < (b.route, b.method, b.status) }
    }

    private struct Histogram {
        var counts = [UInt64](repeating: 0, count: APIMetrics.buckets.count)
        var count: UInt64 = 0
        var sum = 0.0
    }

    private struct State {
        var requests: [RequestKey: UInt64] = [:]
        var latency: [String: Histogram] = [:]
        var appendedEvents: UInt64 = 0
        var appendedBytes: UInt64 = 0
        var appendBatches: UInt64 = 0
        var rejectedBatches: UInt64 = 0
        var exportedEvents: UInt64 = 0
        var exportedBytes: UInt64 = 0
        var tailClients = 0
    }

    private let state = Locked(State())
    /// The metrics the library and the services report through swift-metrics, when the
    /// process bootstrapped swift-prometheus with this registry: emitted after the API's own.
    let library: PrometheusCollectorRegistry?

    /// Empty metrics; `library`: the registry a `PrometheusMetricsFactory` was bootstrapped
    /// with (`auditlog serve` does), whose metrics `/metrics` serves too.
    public init(library: PrometheusCollectorRegistry? = nil) {
        self.library = library
    }

    func recordRequest(method: String, route: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.requests[RequestKey(method: method, route: route, status: status), default: 0] += 1
            var h = s.latency[route] ?? Histogram()
            if let i = Self.buckets.firstIndex(where: { seconds <= $0 }) { h.counts[i] += 1 }
            h.count += 1
            h.sum += seconds
            s.latency[route] = h
        }
    }

    func recordAppend(events: Int, bytes: Int) {
        state.withLock { s in
            s.appendedEvents += UInt64(events)
            s.appendedBytes += UInt64(bytes)
            s.appendBatches += 1
        }
    }

    func recordRejectedBatch() { state.withLock { $0.rejectedBatches += 1 } }

    func recordExport(events: Int) { state.withLock { $0.exportedEvents += UInt64(events) } }

    func recordExportChunk(bytes: Int) { state.withLock { $0.exportedBytes += UInt64(bytes) } }

    func tailClientConnected(_ delta: Int) { state.withLock { $0.tailClients += delta } }

    /// The log's state at scrape time.
    struct LogGauges {
        var segments: Int
        var sealedSegments: Int
        var bytes: Int64
        var records: UInt64
        var lastSeq: UInt64?
        var lastSweepSeconds: Double?
        var lastSweepRecords: Int64?
        /// The archive's progress, when the log has one.
        var archive: ArchiveStatus?
        /// Each webhook subscription's delivery state.
        var webhooks: [Webhooks.Status] = []
        /// Whether reads are recorded as `audit.read` records.
        var recordsReads = true
    }

    /// Prometheus text exposition format (version 0.0.4).
    func render(log g: LogGauges) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        metric(
            "auditlog_http_requests_total", "counter", "HTTP requests answered, by method, route and status.",
            s.requests.keys.sorted().map { k in ("{method=\"\(k.method)\",route=\"\(Self.escape(k.route))\",status=\"\(k.status)\"}", String(s.requests[k] ?? 0)) })
        out += "# HELP auditlog_http_request_duration_seconds Time to answer a request (to the response head), by route.\n"
        out += "# TYPE auditlog_http_request_duration_seconds histogram\n"
        for route in s.latency.keys.sorted() {
            guard let h = s.latency[route] else { continue }
            let label = "route=\"\(Self.escape(route))\""
            var cumulative: UInt64 = 0
            for (bound, count) in zip(Self.buckets, h.counts) {
                cumulative += count
                out += "auditlog_http_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "auditlog_http_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(h.count)\n"
            out += "auditlog_http_request_duration_seconds_sum{\(label)} \(h.sum)\n"
            out += "auditlog_http_request_duration_seconds_count{\(label)} \(h.count)\n"
        }
        metric("auditlog_appended_events_total", "counter", "Events appended through the API.", [("", String(s.appendedEvents))])
        metric("auditlog_appended_bytes_total", "counter", "Request body bytes of accepted appends.", [("", String(s.appendedBytes))])
        metric("auditlog_append_requests_total", "counter", "Accepted append requests (one batch each).", [("", String(s.appendBatches))])
        metric("auditlog_append_rejected_total", "counter", "Append requests rejected whole (invalid event, too large, conflict).", [("", String(s.rejectedBatches))])
        metric("auditlog_exported_events_total", "counter", "Events in completed /v1/export responses.", [("", String(s.exportedEvents))])
        metric("auditlog_exported_bytes_total", "counter", "Bytes /v1/export has handed to connections.", [("", String(s.exportedBytes))])
        metric("auditlog_tail_clients", "gauge", "Open /v1/tail streams.", [("", String(s.tailClients))])
        metric("auditlog_segments", "gauge", "Segment files in the log.", [("", String(g.segments))])
        metric("auditlog_sealed_segments", "gauge", "Sealed segment files in the log.", [("", String(g.sealedSegments))])
        metric("auditlog_segment_bytes", "gauge", "Bytes of segment files.", [("", String(g.bytes))])
        metric("auditlog_records", "gauge", "Records held in the log's segments.", [("", String(g.records))])
        metric("auditlog_last_seq", "gauge", "Seq of the newest record (0 when the log is empty).", [("", String(g.lastSeq ?? 0))])
        if let seconds = g.lastSweepSeconds {
            metric("auditlog_last_sweep_timestamp_seconds", "gauge", "When the last retention sweep ran (Unix time).", [("", String(seconds))])
            metric("auditlog_last_sweep_records", "gauge", "Records the last retention sweep deleted.", [("", String(g.lastSweepRecords ?? 0))])
        }
        if let a = g.archive {
            metric("auditlog_archive_lag_segments", "gauge", "Sealed segments not yet confirmed in the archive.", [("", String(a.pendingSegments))])
            metric("auditlog_archive_lag_bytes", "gauge", "Bytes of sealed segments not yet confirmed in the archive.", [("", String(a.pendingBytes))])
            metric("auditlog_archive_uploaded_segments_total", "counter", "Segments this server uploaded to the archive.", [("", String(a.uploadedSegments))])
            metric("auditlog_archive_uploaded_bytes_total", "counter", "Segment bytes this server uploaded to the archive.", [("", String(a.uploadedBytes))])
            metric("auditlog_archive_failures_total", "counter", "Failed archive requests (each retried with backoff).", [("", String(a.failures))])
            metric("auditlog_archive_conflicts", "gauge", "Segments whose key holds a different object in the store (never overwritten).", [("", String(a.conflicts.count))])
        }
        if !g.webhooks.isEmpty {
            func perSubscription(_ value: (Webhooks.Status) -> String) -> [(labels: String, value: String)] {
                g.webhooks.map { ("{subscription=\"\(Self.escape($0.subscription.id))\"}", value($0)) }
            }
            metric("auditlog_webhook_deliveries_total", "counter", "Webhook deliveries acknowledged by the receiver (2xx), per subscription.", perSubscription { String($0.delivered) })
            metric("auditlog_webhook_failures_total", "counter", "Failed webhook delivery attempts since the server started, per subscription.", perSubscription { String($0.failures) })
            metric("auditlog_webhook_lag_records", "gauge", "Records appended after a subscription's cursor (not yet looked at).", perSubscription { String($0.lag) })
            metric("auditlog_webhook_failing", "gauge", "1 when a subscription's deliveries have failed longer than the retry limit.", perSubscription { $0.failing ? "1" : "0" })
        }
        metric("auditlog_read_audit_enabled", "gauge", "1 when reads through the API are recorded as audit.read records.", [("", g.recordsReads ? "1" : "0")])
        if let library { out += library.emitToString() }
        return out
    }

    private static func escape(_ label: String) -> String {
        label.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
