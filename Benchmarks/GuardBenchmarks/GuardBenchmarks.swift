@_spi(Testing) import AuditLog
import Benchmark
import Foundation

// The regression guard (`make bench-check`, see Benchmarks/README.md; names without spaces, as
// the stored thresholds are found by name): the hot paths — append, the index a seal builds,
// NDJSON parsing, a sparse query, usage, a cold open, CSV and NDJSON export (one event at a time and
// on every core) — measured in allocations, which
// repeat from run to run on a noisy machine where wall time does not, and checked against the
// thresholds stored in Benchmarks/Thresholds (`make bench-baseline` stores new ones). Wall time
// is reported beside them but not checked. This kind of machine has no hardware counters for
// instruction counts, and its valgrind cannot read the release build (docs/PERFORMANCE.md,
// eleventh session).

let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z")!

/// 100,000 generated events over 30 days, seed 7: the same on every run.
let events: [AuditEvent] = {
    var generator = EventGenerator(seed: 7, count: 100_000, days: 30, end: end)
    var out: [AuditEvent] = []
    while let e = generator.next() { out.append(e) }
    return out
}()

/// The events as NDJSON, as `auditlog ingest` reads them.
let ndjson: [UInt8] = {
    var out: [UInt8] = []
    for e in events.prefix(10_000) {
        out += Array(e.jsonText().utf8)
        out.append(0x0A)
    }
    return out
}()

/// A log of the events, written once per run, read by the read-side benchmarks through one
/// handle whose warm-up iteration loads what they need.
final class GuardLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: AuditLog?
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-guard-\(ProcessInfo.processInfo.processIdentifier)").path

    func get() async throws -> AuditLog {
        if let log = lock.withLock({ self.log }) { return log }
        try? FileManager.default.removeItem(atPath: directory)
        var options = AuditLogOptions()
        options.durability = .none
        options.partition = .day
        let writer = try await AuditLog.open(directory: directory, options: options)
        for start in stride(from: 0, to: events.count, by: 1_000) {
            _ = try await writer.append(Array(events[start..<min(start + 1_000, events.count)]))
        }
        try await writer.close()
        let opened = try await AuditLog.open(directory: directory, options: .readOnly)
        lock.withLock { self.log = opened }
        return opened
    }

    /// The one handle is a global, never deinitialized: its directory goes when the process exits.
    init() { atexit { guardLog.removeDirectory() } }

    func removeDirectory() { try? FileManager.default.removeItem(atPath: directory) }
}

let guardLog = GuardLog()
let month = TimeWindow(since: Timestamp(nanosSinceEpoch: end.nanosSinceEpoch - 30 * 86_400_000_000_000), until: end)

func export(_ format: ExportFormat) async throws -> Int {
    let iterator = try await guardLog.get().queryIterator(Query(window: month, order: .oldestFirst))
    var encoder = ExportEncoder(format: format)
    var bytes: [UInt8] = []
    var total = 0
    while try encoder.encodeNext(from: iterator, into: &bytes) {
        if bytes.count >= 1 << 16 {
            total += bytes.count
            bytes.removeAll(keepingCapacity: true)
        }
    }
    return total + bytes.count
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.mallocCountTotal, .wallClock],
        timeUnits: .microseconds,
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 15,
        // Allocations barely move between runs; a change past 5 % is a regression (or an
        // improvement to store with `make bench-baseline`).
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 5])]
    )
    // An export allocates ~200 times whatever its size, plus up to ~1,000 when the frame cache
    // makes room: checked in absolute terms, so that 10,000 allocations (one per event) fail.
    var exportConfiguration = Benchmark.defaultConfiguration
    exportConfiguration.thresholds = [.mallocCountTotal: .init(absolute: [.p90: 2_000])]

    // The close is measured too: the indexes of the segments sealed on the way are built in
    // the background, and a count that stopped before they finished would depend on timing.
    Benchmark("append-10-batches-of-1000-no-fsync") { benchmark in
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-guard-append-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = AuditLogOptions()
        options.durability = .none
        let log = try await AuditLog.open(directory: dir, options: options)
        benchmark.startMeasurement()
        for start in stride(from: 0, to: 10_000, by: 1_000) {
            blackHole(try await log.append(Array(events[start..<(start + 1_000)])))
        }
        try await log.close()
        benchmark.stopMeasurement()
    }

    // What each seal runs in the background, off the append path: every sealed segment of the
    // guard log (one a day, ~3,300 records each) decoded, indexed, rolled up and encoded, nothing
    // written. Its allocations grow with every array made per record or per rollup row.
    Benchmark("index-build-sealed-segments") { _ in
        _ = try await guardLog.get()
        blackHole(try IndexBuildTiming.buildSealed(directory: guardLog.directory).bytes)
    }

    Benchmark("parse-10000-ndjson-events") { _ in
        // As `auditlog ingest` reads: into a batch of 1,000 events.
        let reader = EventInputReader(bytes: ndjson)
        var batch: [AuditEvent] = []
        batch.reserveCapacity(1000)
        var n = 0
        while try reader.next(into: &batch) != nil {
            n += 1
            if batch.count == 1000 { batch.removeAll(keepingCapacity: true) }
        }
        blackHole(n)
    }

    Benchmark("one-user-one-day") { _ in
        let log = try await guardLog.get()
        let user = events[events.count - 100].user ?? ""
        let since = Timestamp(nanosSinceEpoch: end.nanosSinceEpoch - 2 * 86_400_000_000_000)
        let q = Query(window: TimeWindow(since: since, until: Timestamp(nanosSinceEpoch: since.nanosSinceEpoch + 86_400_000_000_000)), filter: EventFilter(users: [user]))
        var n = 0
        for try await _ in log.query(q) { n += 1 }
        blackHole(n)
    }

    // Ids from every day of the month: a lookup tests the id tables of the segments from the
    // newest back to the one holding it, tables the warm handle holds.
    Benchmark("twenty-events-by-id") { _ in
        let log = try await guardLog.get()
        var found = 0
        for i in stride(from: 0, to: events.count, by: events.count / 20) where try await log.event(id: events[i].id ?? "") != nil { found += 1 }
        blackHole(found)
    }

    Benchmark("usage-by-user-30-days") { _ in
        blackHole(try await guardLog.get().usage(window: month, groupBy: [.user]).rows.count)
    }

    // A fresh read-only handle: the catalog, the active segment's index checkpoint (read part
    // by part, never rebuilt by decoding the segment's records) and the newest frames.
    Benchmark("cold-open-newest-50-blocked") { _ in
        _ = try await guardLog.get()
        let log = try await AuditLog.open(directory: guardLog.directory, options: .readOnly)
        let lastHour = Timestamp(nanosSinceEpoch: end.nanosSinceEpoch - 3_600_000_000_000)
        blackHole(try await log.page(Query(window: TimeWindow(since: lastHour), filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)).records.count)
    }

    Benchmark("export-30-days-csv", configuration: exportConfiguration) { _ in
        blackHole(try await export(.csv))
    }

    Benchmark("export-30-days-ndjson", configuration: exportConfiguration) { _ in
        blackHole(try await export(.ndjson))
    }

    // What `auditlog export` runs: runs of segments transcoded on every core, in order.
    Benchmark("export-30-days-ndjson-on-every-core", configuration: exportConfiguration) { _ in
        var total = 0
        for try await chunk in try await guardLog.get().exportChunks(Query(window: month, order: .oldestFirst), format: .ndjson) {
            total += chunk.bytes.count
        }
        blackHole(total)
    }
}
