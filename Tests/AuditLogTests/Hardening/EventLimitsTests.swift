import Foundation
import Testing

@testable import AuditLog

/// The outside probe's first finding: one event with a counter at 2⁶³ − 1 trapped `usage`, then
/// every index build, bricking the log. Input now has limits, and stored data never traps.
@Suite struct EventLimitsTests {
    static let base = #"{"event_type":"decision","timestamp":"2026-03-20T10:30:00Z""#

    @Test(arguments: [
        ("tokens_out", "9223372036854775807"),
        ("tokens_in", "1000000000001"),
        ("tokens_cached", "1000000000001"),
        ("tokens_reasoning", "1000000000001"),
        ("cost", "9223372036.854775807"),
        ("cost", "1000000.000000001"),
        ("cost", "\"1000001\""),
        ("latency_ms", "1000000000.001"),
    ])
    func aValueAboveItsLimitIsRefusedNamingTheField(field: String, value: String) throws {
        do throws(AuditLogError) {
            _ = try AuditEvent(json: Self.base + ",\"\(field)\":\(value)}")
            Issue.record("\(field)=\(value) was accepted")
        } catch {
            #expect(error.code == .invalidEvent)
            #expect(error.location.field == field)
            #expect(error.message.contains("limit"), "\(error.message)")
        }
    }

    @Test func valuesAtTheLimitsAreAccepted() throws {
        let e = try AuditEvent(json: Self.base + #","tokens_in":1000000000000,"tokens_out":1000000000000,"cost":1000000,"latency_ms":1000000000}"#)
        #expect(e.tokensIn == EventLimits.maxTokens)
        #expect(e.cost?.nanodollars == EventLimits.maxCostNanodollars)
        #expect(e.latencyMicros == EventLimits.maxLatencyMicros)
        try e.validate()
    }

    @Test func anEventBuiltInSwiftIsCheckedAtAppend() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            var e = AuditEvent(eventType: "decision", timestamp: .now)
            e.tokensOut = .max
            do throws(AuditLogError) {
                _ = try await log.append([e])
                Issue.record("an event with tokens_out 2^63-1 was appended")
            } catch {
                #expect(error.code == .invalidEvent)
                #expect(error.location.field == "tokens_out")
            }
            try await log.close()
        }
    }

    /// Events as a version without the limits could store them: each counter at 2⁶³ − 1.
    static func hugeEvents(_ count: Int, from start: Timestamp) -> [AuditEvent] {
        (0..<count).map { i in
            var e = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + Int64(i) * 1_000_000_000))
            e.user = "mallory"
            e.tokensIn = .max
            e.tokensOut = .max
            e.cost = Cost(nanodollars: .max)
            e.latencyMicros = .max
            e.verdict = .allow
            return e
        }
    }

    @Test func aLogAlreadyHoldingHugeCountersStillAnswersEverything() async throws {
        try await withTemporaryDirectory { dir in
            let day: Int64 = 86_400_000_000_000
            let start = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!
            var log = try await AuditLog.open(directory: dir, options: testOptions())
            // Day 1: normal traffic and three huge events (sealed by day 2); day 2: more of both.
            _ = try await log.append(events(50, from: start))
            _ = try await log.append(Self.hugeEvents(3, from: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + 3_600_000_000_000)), origin: .unvalidatedForTesting)
            _ = try await log.append(events(50, from: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + day)))
            _ = try await log.append(Self.hugeEvents(2, from: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + day + 60_000_000_000)), origin: .unvalidatedForTesting)
            log.indexes.waitForBackgroundWork()
            #expect(log.segments.count == 2 && log.segments[0].isSealed)

            for reopen in [false, true] {
                if reopen {
                    try await log.close()
                    // Every derived file goes: the next open rebuilds them from the segments.
                    for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/segments") where !name.hasSuffix(".seg") {
                        try FileManager.default.removeItem(atPath: dir + "/segments/" + name)
                    }
                    log = try await AuditLog.open(directory: dir, options: testOptions())
                    log.indexes.waitForBackgroundWork()
                }
                let usage = try await log.usage(groupBy: [.user])
                #expect(usage.totals.requests == 105)
                #expect(usage.totals.isSaturated)
                #expect(usage.totals.tokensOut == .max && usage.totals.cost.nanodollars == .max)
                let mallory = try #require(usage.rows.first { $0.group == ["mallory"] })
                #expect(mallory.requests == 5 && mallory.isSaturated)
                #expect(mallory.averageLatencyMicros == .max)
                #expect(mallory.p95LatencyMicros ?? 0 > 0)
                let others = usage.rows.filter { $0.group != ["mallory"] }
                #expect(others.allSatisfy { !$0.isSaturated })
                let othersCost = others.reduce(Int64(0)) { $0 + $1.cost.nanodollars }
                let expectedCost: Int64 = (0..<50).reduce(Int64(0)) { (sum: Int64, i: Int) in sum + 2 * Int64(i) * 1_000 }
                #expect(othersCost == expectedCost)
                // Rollup-eligible (whole segments, no filter) and scanned answers agree.
                let byHour = try await log.usage(groupBy: [.day])
                #expect(byHour.rows.count == 2 && byHour.rows.allSatisfy(\.isSaturated))
                let filtered = try await log.usage(groupBy: [.model], filter: EventFilter(users: ["mallory"]))
                #expect(filtered.totals.requests == 5)
                // Reads of every kind work.
                #expect(try await readAll(log).count == 105)
                #expect(try await log.page(Query(filter: EventFilter(users: ["mallory"]), limit: 10)).records.count == 5)
                let json = try await log.pageJSON(Query(limit: 200))
                #expect(json.count == 105)
                let huge = try #require(try await log.page(Query(filter: EventFilter(users: ["mallory"]), limit: 1)).records.first)
                #expect(try await log.event(id: huge.event.id ?? "")?.event.tokensOut == .max)
            }
            // The sealed segment's index exists and has no rollup rows to overflow.
            let sealed = log.segments[0]
            #expect(log.indexState(of: sealed) == .file)
            let reader = try #require(try IndexFile.Reader(log.files, segment: sealed))
            var data = try reader.loadDirectory()
            try reader.load(.dictionaries, into: &data)
            try reader.load(.rollups, into: &data)
            #expect(data.rollups == nil)
            try await log.close()
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }

    @Test func sumsNeverOverflowHowEverManyMaximalValues() {
        var a = UsageAggregate()
        for _ in 0..<1000 { a.add(verdict: 1, cacheHit: 2, tokensIn: .max, tokensOut: .max, costNanos: .max, latencyMicros: .max) }
        var b = a
        b.merge(a)
        #expect(b.tokensIn == Int128(Int64.max) * 2000)
        #expect(!b.fitsRollupRow)
        let row = UsageRow(group: [], b)
        #expect(row.isSaturated && row.tokens == .max && row.tokensIn == .max)
        #expect(row.averageLatencyMicros == .max)
    }
}
