import Foundation
import Testing

@testable import AuditLog

/// Every query, page, id lookup and usage report equals a brute-force scan of all records, on
/// randomly generated logs with many segments, partition boundaries and late events. Each test
/// prints its seed in failure messages.
@Suite(.serialized) struct QueryPropertyTests {
    static let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z")!

    /// A log of generated events (hour partitions, small segments, 3% of events shifted up to two
    /// hours late), appended in random batches; sealed segments get their index files.
    static func makeLog(_ dir: String, seed: UInt64, count: Int, reopen: Bool = true, segmentBytes: Int64 = 24 << 10, partition: AuditLogOptions.Partition = .hour) async throws -> AuditLog {
        var options = AuditLogOptions()
        options.durability = .none
        options.partition = partition
        options.segmentSizeLimitBytes = segmentBytes
        var log = try await AuditLog.open(directory: dir, options: options)
        var generator = EventGenerator(seed: seed, count: count, days: 0.5, end: end)
        var rng = SplitMix64(seed: seed &* 31)
        var batch: [AuditEvent] = []
        var target = 1 + rng.below(300)
        while var e = generator.next() {
            if rng.below(100) < 3 {
                e.timestamp = Timestamp(nanosSinceEpoch: e.timestamp.nanosSinceEpoch - Int64(rng.below(7_200)) * 1_000_000_000)
            }
            if rng.below(10) == 0 { e.id = nil }
            batch.append(e)
            if batch.count >= target {
                _ = try await log.append(batch)
                batch.removeAll()
                target = 1 + rng.below(300)
            }
        }
        if !batch.isEmpty { _ = try await log.append(batch) }
        if reopen {
            try await log.close()
            log = try await AuditLog.open(directory: dir, options: options)
        }
        return log
    }

    static func randomFilter(_ rng: inout SplitMix64, _ all: [Record]) -> EventFilter {
        func pick(_ values: [String?], _ n: Int) -> Set<String> {
            var out = Set<String>()
            for _ in 0..<n { if let v = values[rng.below(values.count)] { out.insert(v) } }
            return out
        }
        var f = EventFilter()
        if rng.below(3) == 0 { f.verdicts = Set((0..<(1 + rng.below(2))).map { _ in Verdict.allCases[rng.below(4)] }) }
        if rng.below(4) == 0 { f.users = pick(all.map(\.event.user), 1 + rng.below(3)).union(rng.below(3) == 0 ? ["nobody@acme.com"] : []) }
        if rng.below(4) == 0 { f.models = pick(all.map(\.event.model), 1 + rng.below(2)) }
        let fields = ["team", "provider", "event_type", "reason_code", "api_key", "source", "cache_hit", "gateway", "config_version", "tokens_out"]
        for _ in 0..<rng.below(3) {
            let field = fields[rng.below(fields.count)]
            f.fields[field] = pick(all.map { $0.event.fieldText(field) }, 1 + rng.below(3))
        }
        // Expressions as users write them: not-equal, prefixes (also on indexed columns, where
        // the dictionary is searched), numeric comparisons, policy fields, and a search.
        for _ in 0..<rng.below(3) {
            let some = all[rng.below(all.count)].event
            var text: String?
            switch rng.below(9) {
            case 0: text = some.team.map { "team!=\($0)" }
            case 1: text = some.user.map { "user=\($0.prefix(1 + rng.below(4)))*" }
            case 2: text = some.model.map { "model!=\($0.prefix(1 + rng.below(5)))*" }
            case 3: text = "tokens_in>\(rng.below(2000))"
            case 4: text = "cost<=\(Double(rng.below(100)) / 1000)"
            case 5: text = "verdict!=\(Verdict.allCases[rng.below(4)].rawValue.uppercased())"
            case 6: text = "policy_verdict=\(["block", "redact", "ESCALATE"][rng.below(3)])"
            case 7: text = some.policies?.first?.name.map { "policy!=\($0)" }
            default: text = "event_type=\(["decision", "model.", "api_key."][rng.below(3)])*"
            }
            if let text, let e = try? FilterExpression(parsing: text) { f.expressions.append(e) }
        }
        if rng.below(8) == 0 { f.search = ["ALICE", "pii", "gpt-4o", "zzz-none"][rng.below(4)] }
        return f
    }

    static func randomWindow(_ rng: inout SplitMix64, _ all: [Record]) -> TimeWindow {
        let times = all.map(\.event.timestamp.nanosSinceEpoch)
        guard let lo = times.min(), let hi = times.max() else { return .all }
        func at() -> Timestamp { Timestamp(nanosSinceEpoch: lo + Int64(rng.next() % UInt64(hi - lo + 1))) }
        switch rng.below(5) {
        case 0: return .all
        case 1: return TimeWindow(since: at())
        case 2: return TimeWindow(until: at())
        default:
            let a = at()
            let b = at()
            return TimeWindow(since: min(a, b), until: max(a, b))
        }
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func queriesAndPagesEqualAFullScan(seed: UInt64) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await Self.makeLog(dir, seed: seed, count: 4000)
            #expect(log.segments.count > 10, "seed \(seed)")
            try await Self.checkQueries(log, seed: seed, rounds: 60)
            try await log.close()
        }
    }

    /// Segments of thousands of records: a query tests their columns in runs (of 512 records,
    /// then longer), so matches on both sides of a run's edge, in both orders and across pages,
    /// must come out as a full scan finds them.
    @Test func queriesOverLargeSegmentsEqualAFullScan() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await Self.makeLog(dir, seed: 14, count: 12_000, segmentBytes: 4 << 20, partition: .day)
            #expect(log.segments.contains { $0.recordCount > 5_000 })
            try await Self.checkQueries(log, seed: 14, rounds: 40)
            try await log.close()
        }
    }

    static func checkQueries(_ log: AuditLog, seed: UInt64, rounds: Int) async throws {
        let all = try await readAll(log)
        var rng = SplitMix64(seed: seed)
        for round in 0..<rounds {
            var q = Query(window: Self.randomWindow(&rng, all), filter: Self.randomFilter(&rng, all), order: rng.below(2) == 0 ? .oldestFirst : .newestFirst)
            let expected = (q.order == .oldestFirst ? all : all.reversed()).filter { q.matches($0.event) }
            var got: [Record] = []
            for try await r in log.query(q) { got.append(r) }
            #expect(got.map(\.seq) == expected.map(\.seq), "seed \(seed) round \(round): \(q)")
            #expect(got == expected, "seed \(seed) round \(round): records differ")
            // The same in pages that resume exactly where they stopped.
            q.limit = 1 + rng.below(120)
            var paged: [Record] = []
            var pages = 0
            while true {
                let page = try await log.page(q)
                // The JSON page (transcoded from stored bytes, frames from the cache) is
                // the same page rendered.
                let jsonPage = try await log.pageJSON(q)
                var rendered: [UInt8] = [UInt8(ascii: "[")]
                for (i, r) in page.records.enumerated() {
                    if i > 0 { rendered.append(UInt8(ascii: ",")) }
                    r.event.appendJSON(to: &rendered, seq: r.seq)
                }
                rendered.append(UInt8(ascii: "]"))
                #expect(jsonPage.json == rendered, "seed \(seed) round \(round): JSON page differs")
                #expect(jsonPage.count == page.records.count && jsonPage.nextCursor == page.nextCursor, "seed \(seed) round \(round)")
                paged += page.records
                pages += 1
                guard let next = page.nextCursor else { break }
                #expect(page.records.count == q.limit, "seed \(seed) round \(round)")
                q.cursor = next
                if pages > 10_000 { break }
            }
            #expect(paged.map(\.seq) == expected.map(\.seq), "seed \(seed) round \(round) paged by \(q.limit ?? 0)")
        }
    }

    /// The start of the bucket holding `date`, from Foundation's calendar (not the engine's
    /// arithmetic): ISO weeks from Monday, months from the 1st, all in UTC.
    static func calendarBucket(_ group: UsageGroup, _ t: Timestamp) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = t.date
        let start: Date
        switch group {
        case .hour: start = calendar.dateInterval(of: .hour, for: date)!.start
        case .week: start = calendar.dateInterval(of: .weekOfYear, for: date)!.start
        case .month: start = calendar.dateInterval(of: .month, for: date)!.start
        default: start = calendar.startOfDay(for: date)
        }
        return Timestamp(start).rfc3339
    }

    static func bruteUsage(_ all: [Record], window: TimeWindow, groupBy: [UsageGroup], filter: EventFilter) -> [[String?]: UsageAggregate] {
        var groups: [[String?]: UsageAggregate] = [:]
        for r in all where window.contains(r.event.timestamp.nanosSinceEpoch) && filter.matches(r.event) {
            let key: [String?] = groupBy.map { g in
                switch g {
                case .hour, .day, .week, .month: calendarBucket(g, r.event.timestamp)
                case .verdict: r.event.verdict?.rawValue
                case .user: r.event.user
                case .team: r.event.team
                case .model: r.event.model
                case .provider: r.event.provider
                case .apiKey: r.event.apiKey
                case .reasonCode: r.event.reasonCode
                case .source: r.event.source
                case .eventType: r.event.eventType
                case .gateway: r.event.gateway
                }
            }
            groups[key, default: UsageAggregate()].add(r.event)
        }
        return groups
    }

    @Test(arguments: [UInt64(21), 22, 23])
    func usageEqualsAFullScanExactly(seed: UInt64) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await Self.makeLog(dir, seed: seed, count: 4000)
            let all = try await readAll(log)
            var rng = SplitMix64(seed: seed)
            var usedRollups = 0
            for round in 0..<80 {
                let window = Self.randomWindow(&rng, all)
                var groupBy: [UsageGroup] = []
                for _ in 0..<rng.below(3) {
                    let g = UsageGroup.allCases[rng.below(UsageGroup.allCases.count)]
                    if !groupBy.contains(g) { groupBy.append(g) }
                }
                let filter = rng.below(2) == 0 ? EventFilter() : Self.randomFilter(&rng, all)
                let columns: UsageColumns = [[], [], [.uniqueUsers], [.reasons], [.uniqueUsers, .reasons]][rng.below(5)]
                let report = try await log.usage(window: window, groupBy: groupBy, filter: filter, columns: columns)
                usedRollups += report.segmentsFromRollups
                let expected = Self.bruteUsage(all, window: window, groupBy: groupBy, filter: filter)
                // Distinct users and reason counts per group, from the events.
                var expectedDetail: [[String?]: UsageDetail] = [:]
                for r in all where window.contains(r.event.timestamp.nanosSinceEpoch) && filter.matches(r.event) {
                    let key = Self.bruteUsage([r], window: .all, groupBy: groupBy, filter: EventFilter()).keys.first ?? []
                    if let user = r.event.user { expectedDetail[key, default: UsageDetail()].users.insert(user) }
                    if let reason = r.event.reasonCode { expectedDetail[key, default: UsageDetail()].reasons[reason, default: 0] += 1 }
                }
                let expectedRows = Set(expected.map { UsageRow(group: $0.key, $0.value, detail: expectedDetail[$0.key] ?? UsageDetail(), columns: columns) })
                #expect(Set(report.rows.filter { $0.requests > 0 }) == expectedRows, "seed \(seed) round \(round): \(groupBy) \(window) \(filter)")
                // With a time key the rows are a series: oldest bucket first, and (with at most
                // one other key) every bucket between the first and the last, zeros included.
                if let t = groupBy.firstIndex(where: \.isTime) {
                    let buckets = report.rows.map { $0.group[t] ?? "" }
                    #expect(buckets == buckets.sorted(), "seed \(seed) round \(round): \(groupBy) not oldest first")
                    if groupBy.count <= 2 {
                        let distinct = Array(Set(buckets)).sorted()
                        let others = Set(report.rows.map { r in r.group.enumerated().filter { $0.offset != t }.map(\.element) })
                        #expect(report.rows.count == distinct.count * others.count, "seed \(seed) round \(round): \(groupBy) has holes")
                        for (a, b) in zip(distinct, distinct.dropFirst()) {
                            let next = Self.calendarBucket(groupBy[t], Timestamp(nanosSinceEpoch: groupBy[t].nextBucket(Timestamp(rfc3339: a)!.nanosSinceEpoch)))
                            #expect(b == next, "seed \(seed) round \(round): \(groupBy) skips from \(a) to \(b)")
                        }
                    }
                } else {
                    #expect(report.rows.allSatisfy { $0.requests > 0 })
                }
                var total = UsageAggregate()
                for a in expected.values { total.merge(a) }
                #expect(report.totals.cost.nanodollars == total.costNanos, "seed \(seed) round \(round)")
                #expect(report.totals.requests == total.requests)
                #expect(report.totals.p95LatencyMicros == total.sketch.quantile(0.95))
            }
            #expect(usedRollups > 0, "no usage query used rollups (seed \(seed))")
            try await log.close()
        }
    }

    @Test func findsEventsByIDAcrossSegments() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await Self.makeLog(dir, seed: 31, count: 3000)
            let all = try await readAll(log)
            var rng = SplitMix64(seed: 31)
            for _ in 0..<200 {
                let r = all[rng.below(all.count)]
                let found = try await log.event(id: r.event.id ?? "")
                #expect(found == r)
            }
            #expect(try await log.event(id: "evt_does_not_exist") == nil)
            // The active segment (in-memory index) too.
            let fresh = try await log.append([AuditEvent(eventType: "x", timestamp: Self.end, id: "evt_fresh")])
            #expect(try await log.event(id: "evt_fresh")?.seq == fresh.firstSeq)
            try await log.close()
        }
    }

    @Test func queriesSeeWhatTheWriterJustAppended() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await Self.makeLog(dir, seed: 41, count: 1500, reopen: false)
            for round in 0..<5 {
                var batch = events(30, from: Timestamp(nanosSinceEpoch: Self.end.nanosSinceEpoch + Int64(round) * 60_000_000_000))
                for i in batch.indices { batch[i].user = "live\(round)@acme.com" }
                _ = try await log.append(batch)
                var got: [Record] = []
                for try await r in log.query(Query(filter: EventFilter(users: ["live\(round)@acme.com"]))) { got.append(r) }
                #expect(got.count == 30)
                let usage = try await log.usage(groupBy: [.user], filter: EventFilter(users: ["live\(round)@acme.com"]))
                #expect(usage.totals.requests == 30)
            }
            try await log.close()
        }
    }
}
