import AuditLog
import Benchmark
import Foundation

// Run with: AUDITLOG_BENCHMARKS=1 swift package --disable-sandbox benchmark
// (see docs/PERFORMANCE.md). Each benchmark reports per *iteration*; the iteration size is in
// its name, so events/s = iterations/s × events per iteration.

/// Realistic generated events (ids left to the log so that batches can be appended again).
let sampleEvents: [AuditEvent] = {
    var generator = EventGenerator(seed: 1, count: 100_000, days: 30, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
    var out: [AuditEvent] = []
    out.reserveCapacity(100_000)
    while var e = generator.next() {
        e.id = nil
        out.append(e)
    }
    return out
}()

let batchesOf1000: [[AuditEvent]] = stride(from: 0, to: sampleEvents.count, by: 1000).map { Array(sampleEvents[$0..<min($0 + 1000, sampleEvents.count)]) }

func temporaryLogDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-bench-\(UUID().uuidString)").path
}

/// A log of `count` events, made once and reused by the read-side benchmarks.
func prebuiltLog(count: Int) async throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-bench-prebuilt-\(count)").path
    if FileManager.default.fileExists(atPath: dir + "/auditlog.meta") {
        // Reuse it only if this build reads and verifies it (the format may have changed).
        if let report = try? await AuditLog.verify(directory: dir), report.isIntact, report.recordsChecked == UInt64(count) {
            return dir
        }
        try FileManager.default.removeItem(atPath: dir)
    }
    var options = AuditLogOptions()
    options.durability = .none
    let log = try await AuditLog.open(directory: dir, options: options)
    var generator = EventGenerator(seed: 2, count: count, days: 30, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
    var batch: [AuditEvent] = []
    while let e = generator.next() {
        batch.append(e)
        if batch.count == 10_000 {
            _ = try await log.append(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty { _ = try await log.append(batch) }
    try await log.close()
    return dir
}

let logEnd = Timestamp(rfc3339: "2026-03-21T00:00:00Z")!
let hourNanos: Int64 = 3_600_000_000_000

/// One read-only handle on the 10,000,000-event, 30-day log, shared by the iterations of a
/// benchmark: the first (warm-up) iteration loads the index parts it needs, the measured ones
/// run warm, as in a long-running server. The "cold" benchmarks open a new handle each time.
final class SharedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: AuditLog?

    func get() async throws -> AuditLog {
        if let log = lock.withLock({ self.log }) { return log }
        let opened = try await AuditLog.open(directory: try await prebuiltLog(count: 10_000_000), options: .readOnly)
        lock.withLock { self.log = opened }
        return opened
    }
}

let sharedLog = SharedLog()

func tenMillionLog() async throws -> AuditLog { try await sharedLog.get() }

func coldTenMillionLog() async throws -> AuditLog {
    try await AuditLog.open(directory: try await prebuiltLog(count: 10_000_000), options: .readOnly)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .cpuTotal],
        timeUnits: .microseconds,
        warmupIterations: 1,
        maxDuration: .seconds(15),
        maxIterations: 200
    )

    Benchmark("append: 1,000-event batches, no fsync (per 100 batches)") { benchmark in
        let dir = temporaryLogDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = AuditLogOptions()
        options.durability = .none
        let log = try await AuditLog.open(directory: dir, options: options)
        benchmark.startMeasurement()
        for i in 0..<100 {
            blackHole(try await log.append(batchesOf1000[i % batchesOf1000.count]))
        }
        benchmark.stopMeasurement()
        try await log.close()
    }

    for (batch, label) in [(1, "1-event"), (100, "100-event")] {
        Benchmark("append: 32 tasks, \(label) appends, fsync group commit (per 6,400 events)") { benchmark in
            let dir = temporaryLogDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let log = try await AuditLog.open(directory: dir)  // syncEveryBatch
            let perTask = 200 / batch
            benchmark.startMeasurement()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<32 {
                    group.addTask {
                        for i in 0..<perTask {
                            let start = (task * 200 + i * batch) % (sampleEvents.count - batch)
                            blackHole(try await log.append(Array(sampleEvents[start..<(start + batch)])))
                        }
                    }
                }
                try await group.waitForAll()
            }
            benchmark.stopMeasurement()
            try await log.close()
        }
    }

    Benchmark("verify: 1,000,000-event log", configuration: .init(maxIterations: 10)) { benchmark in
        let dir = try await prebuiltLog(count: 1_000_000)
        benchmark.startMeasurement()
        let report = try await AuditLog.verify(directory: dir)
        benchmark.stopMeasurement()
        precondition(report.isIntact && report.recordsChecked == 1_000_000)
        blackHole(report)
    }

    Benchmark("read: 1,000,000 records oldest first (decode)", configuration: .init(maxIterations: 10)) { benchmark in
        let dir = try await prebuiltLog(count: 1_000_000)
        let log = try await AuditLog.open(directory: dir, options: .readOnly)
        benchmark.startMeasurement()
        let reader = log.recordReader()
        var n = 0
        while let r = try reader.next() {
            blackHole(r)
            n += 1
        }
        benchmark.stopMeasurement()
        precondition(n == 1_000_000)
    }

    let queryConfiguration = Benchmark.Configuration(metrics: [.wallClock, .mallocCountTotal], timeUnits: .microseconds, warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 1000)

    Benchmark("10M log: open (read-only, catalog of every segment)", configuration: queryConfiguration) { benchmark in
        let dir = try await prebuiltLog(count: 10_000_000)
        benchmark.startMeasurement()
        blackHole(try await AuditLog.open(directory: dir, options: .readOnly))
    }

    Benchmark("10M log, cold handle: newest 50 blocked events in the last hour", configuration: queryConfiguration) { benchmark in
        let log = try await coldTenMillionLog()
        let q = Query(window: TimeWindow(since: Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - hourNanos)), filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)
        benchmark.startMeasurement()
        let page = try await log.page(q)
        benchmark.stopMeasurement()
        precondition(page.records.count == 50)
    }

    Benchmark("10M log, cold handle: usage by user, 30 days", configuration: queryConfiguration) { benchmark in
        let log = try await coldTenMillionLog()
        benchmark.startMeasurement()
        let report = try await log.usage(window: TimeWindow(since: Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 30 * 24 * hourNanos), until: logEnd), groupBy: [.user])
        benchmark.stopMeasurement()
        precondition(report.totals.requests > 9_000_000)
    }

    Benchmark("10M log: newest 50 blocked events in the last hour", configuration: queryConfiguration) { benchmark in
        let log = try await tenMillionLog()
        let q = Query(window: TimeWindow(since: Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - hourNanos)), filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)
        benchmark.startMeasurement()
        let page = try await log.page(q)
        benchmark.stopMeasurement()
        precondition(page.records.count == 50)
    }

    Benchmark("10M log: all events of one user in one day", configuration: queryConfiguration) { benchmark in
        let log = try await tenMillionLog()
        let day = Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 10 * 24 * hourNanos)
        let q = Query(window: TimeWindow(since: day, until: Timestamp(nanosSinceEpoch: day.nanosSinceEpoch + 24 * hourNanos)), filter: EventFilter(users: ["alice.100@acme.com"]), order: .oldestFirst)
        benchmark.startMeasurement()
        let iterator = try log.queryIterator(q)
        var n = 0
        while let r = try iterator.next() { blackHole(r); n += 1 }
        benchmark.stopMeasurement()
        precondition(n > 0)
    }

    Benchmark("10M log: one event by id", configuration: queryConfiguration) { benchmark in
        let log = try await tenMillionLog()
        var generator = EventGenerator(seed: 2, count: 10_000_000, days: 30, end: logEnd)
        var ids: [String] = []
        for i in 0..<2_000_000 {
            guard let e = generator.next() else { break }
            if i % 100_003 == 0, let id = e.id { ids.append(id) }
        }
        var k = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let found = try await log.event(id: ids[k % ids.count])
            precondition(found != nil)
            k += 1
        }
    }

    Benchmark("10M log: usage by user, 30 days", configuration: queryConfiguration) { benchmark in
        let log = try await tenMillionLog()
        benchmark.startMeasurement()
        let report = try await log.usage(window: TimeWindow(since: Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 30 * 24 * hourNanos), until: logEnd), groupBy: [.user])
        benchmark.stopMeasurement()
        precondition(report.totals.requests > 9_000_000)
    }

    Benchmark("10M log: usage by team x model, 7 days", configuration: queryConfiguration) { benchmark in
        let log = try await tenMillionLog()
        benchmark.startMeasurement()
        let report = try await log.usage(window: TimeWindow(since: Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 7 * 24 * hourNanos), until: logEnd), groupBy: [.team, .model])
        benchmark.stopMeasurement()
        precondition(report.rows.count > 100)
    }

    filterBenchmarks(queryConfiguration)

    Benchmark(
        "10M log: export 1 day to NDJSON in memory (per day of ~333,000 events)", configuration: .init(metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 5)
    ) { benchmark in
        let log = try await tenMillionLog()
        let day = Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 5 * 24 * hourNanos)
        let q = Query(window: TimeWindow(since: day, until: Timestamp(nanosSinceEpoch: day.nanosSinceEpoch + 24 * hourNanos)), order: .oldestFirst)
        benchmark.startMeasurement()
        let iterator = try log.queryIterator(q)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 20)
        var n = 0
        while let r = try iterator.next() {
            r.event.appendJSON(to: &bytes, seq: r.seq)
            bytes.append(0x0A)
            if bytes.count > 1 << 20 { blackHole(bytes); bytes.removeAll(keepingCapacity: true) }
            n += 1
        }
        benchmark.stopMeasurement()
        precondition(n > 300_000)
    }

    Benchmark("decode: JSON event (per 1,000)") { benchmark in
        let lines = sampleEvents.prefix(1000).map { Array($0.jsonText().utf8) }
        benchmark.startMeasurement()
        for line in lines {
            blackHole(try line.withUnsafeBytes { try AuditEvent(jsonBytes: $0) })
        }
    }
}
