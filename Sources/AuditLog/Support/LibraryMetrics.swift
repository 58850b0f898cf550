import Logging
import Metrics

/// What the library reports through apple/swift-metrics, so that a service embedding it sees
/// these in whatever backend it bootstrapped (`auditlog serve` bootstraps swift-prometheus and
/// serves them at `/metrics`). Names and meanings are listed in docs/OPERATIONS.md,
/// "Metrics". Created on first use: bootstrap the metrics system before opening a log.
enum LibraryMetrics {
    private static let records = Counter(label: "auditlog_writer_records_total")
    private static let recordBytes = Counter(label: "auditlog_writer_record_bytes_total")
    private static let groupRecords = Recorder(label: "auditlog_writer_group_commit_records")
    private static let syncLatency = Timer(label: "auditlog_writer_sync_duration_seconds")
    private static let sealLatency = Timer(label: "auditlog_writer_seal_duration_seconds")
    private static let failedGroups = Counter(label: "auditlog_writer_failed_groups_total")
    private static let queries = Counter(label: "auditlog_queries_total")
    private static let frameCacheHits = Counter(label: "auditlog_frame_cache_hits_total")
    private static let frameCacheMisses = Counter(label: "auditlog_frame_cache_misses_total")
    private static let sweeps = Counter(label: "auditlog_sweeps_total")
    private static let sweptRecords = Counter(label: "auditlog_swept_records_total")
    private static let uploadedSegments = Counter(label: "auditlog_archive_uploads_total")
    private static let uploadedBytes = Counter(label: "auditlog_archive_upload_bytes_total")
    private static let archiveFailures = Counter(label: "auditlog_archive_request_failures_total")

    /// A group commit wrote `records` records of `bytes` bytes (before compression).
    static func group(records: Int, bytes: Int) {
        self.records.increment(by: Int64(records))
        recordBytes.increment(by: Int64(bytes))
        groupRecords.record(Int64(records))
    }

    /// A group failed: every batch in it refused, nothing acknowledged.
    static func failedGroup() { failedGroups.increment() }

    /// An `fdatasync` of the active segment that started at `start`.
    static func synced(since start: ContinuousClock.Instant) {
        syncLatency.recordNanoseconds(nanoseconds(since: start))
    }

    /// A seal that started at `start`: its segment's last write, the syncs before and after
    /// its footer and the tree's, which the group that rolled the segment waits for.
    static func sealed(since start: ContinuousClock.Instant) {
        sealLatency.recordNanoseconds(nanoseconds(since: start))
    }

    private static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// A query started (a page, export, tail, lookup or usage).
    static func query() { queries.increment() }

    /// A frame looked up in the frame cache.
    static func frameCache(hit: Bool) { (hit ? frameCacheHits : frameCacheMisses).increment() }

    /// A sweep deleted segments holding `records` records.
    static func swept(records: Int) {
        sweeps.increment()
        sweptRecords.increment(by: Int64(records))
    }

    /// A segment of `bytes` bytes was uploaded and confirmed.
    static func uploaded(bytes: Int) {
        uploadedSegments.increment()
        uploadedBytes.increment(by: Int64(bytes))
    }

    /// An archive request failed (it is retried).
    static func archiveFailure() { archiveFailures.increment() }
}

/// The library's log (apple/swift-log, label `auditlog`): recoveries and archive trouble, to
/// whatever handler the embedding service bootstrapped.
enum LibraryLog {
    private static let logger = Logger(label: "auditlog")

    static func warning(_ message: String, _ metadata: [String: String]) {
        logger.warning(Logger.Message(stringLiteral: message), metadata: metadata.mapValues { Logger.MetadataValue.string($0) })
    }
}
