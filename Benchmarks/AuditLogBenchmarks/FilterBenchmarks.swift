import AuditLog
import Benchmark

// Issue 17's numbers on the 10M log: a `!=` and a prefix filter on an indexed column against
// the equality filter on the same column (usage over 30 days, from the columns), a search for a word no event holds (every event of
// a day decoded and searched), and usage by reason code.

func filterBenchmarks(_ configuration: Benchmark.Configuration) {
    let month = TimeWindow(since: Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 30 * 24 * hourNanos), until: logEnd)
    // `event_type=decision` is an equality that, like the `!=`, matches almost every event: it
    // shows what summing ten million events costs, whatever the filter.
    for condition in ["user=alice.100@acme.com", "user!=alice.100@acme.com", "user=alice.10*", "event_type=decision"] {
        Benchmark("10M log: usage 30 days where \(condition)", configuration: configuration) { benchmark in
            let log = try await tenMillionLog()
            let filter = EventFilter(expressions: [try FilterExpression(parsing: condition)])
            benchmark.startMeasurement()
            let report = try await log.usage(window: month, filter: filter)
            benchmark.stopMeasurement()
            precondition(report.totals.requests > 0)
        }
    }

    Benchmark(
        "10M log: search a word no event holds, one day (per day of ~333,000 events)",
        configuration: .init(metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(20), maxIterations: 5)
    ) { benchmark in
        let log = try await tenMillionLog()
        let day = Timestamp(nanosSinceEpoch: logEnd.nanosSinceEpoch - 5 * 24 * hourNanos)
        let q = Query(window: TimeWindow(since: day, until: Timestamp(nanosSinceEpoch: day.nanosSinceEpoch + 24 * hourNanos)), filter: EventFilter(search: "quarterly-audit-zz"))
        benchmark.startMeasurement()
        let page = try await log.page(q)
        benchmark.stopMeasurement()
        precondition(page.records.isEmpty)
    }

    Benchmark("10M log: usage by reason_code, 30 days", configuration: configuration) { benchmark in
        let log = try await tenMillionLog()
        benchmark.startMeasurement()
        let report = try await log.usage(window: month, groupBy: [.reasonCode])
        benchmark.stopMeasurement()
        precondition(report.rows.count > 5)
    }
}
