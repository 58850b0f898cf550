import Foundation
import Testing

@testable import AuditLog

/// A window that cuts a segment visits only the frames it overlaps; frames inside it need no
/// time test, and the few across its edges have their times read from their records. The
/// answers equal a plain filter over every record, whatever the window, filter, order and
/// page, on a sealed segment, on an active one read through its checkpoint, and on the
/// writer's own in-memory index — with events out of time order across frames.
@Suite struct EdgeFrameTests {
    static let start = Timestamp(rfc3339: "2026-03-18T00:00:00Z")!
    static let minute: Int64 = 60_000_000_000

    /// 2 days (two segments: day partitions) of 720 events in 72 frames each (one append a frame), every 2 minutes, each
    /// batch's times shuffled by up to ±6 minutes so that neighbouring frames overlap.
    static func fill(_ log: AuditLog) async throws {
        var rng = SplitMix64(seed: 7)
        for day in 0..<2 {
            for batch in 0..<72 {
                let first = start.nanosSinceEpoch + Int64(day) * 1_440 * minute + Int64(batch * 10) * 2 * minute
                var batchEvents = events(10, from: Timestamp(nanosSinceEpoch: first), stepSeconds: 120, prefix: "evt_\(day)_\(batch)_")
                for i in batchEvents.indices {
                    let jitter = Int64(rng.next() % 13) - 6
                    batchEvents[i].timestamp = Timestamp(nanosSinceEpoch: batchEvents[i].timestamp.nanosSinceEpoch + jitter * minute)
                }
                _ = try await log.append(batchEvents)
            }
        }
    }

    static func windows() -> [TimeWindow] {
        let at = { (minutes: Int64) in Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + minutes * minute) }
        return [
            TimeWindow(since: at(1_380)),  // the last hour of day 1 and all of day 2
            TimeWindow(since: at(2_820)),  // the last hour of day 2 (newest 50)
            TimeWindow(since: at(2_000), until: at(2_061)),  // an hour inside day 2
            TimeWindow(since: at(301), until: at(304)),  // three minutes inside one or two frames
            TimeWindow(until: at(90)),  // the first hour and a half
            TimeWindow(since: at(1_435), until: at(1_445)),  // across the two segments
            TimeWindow(since: at(5_000)),  // after everything
        ]
    }

    static func check(_ reader: AuditLog) async throws {
        let all = try await readAll(reader)
        #expect(all.count == 1_440)
        let filters = [EventFilter(), EventFilter(verdicts: [.block]), EventFilter(users: ["user3@acme.com"])]
        for window in windows() {
            for filter in filters {
                let expected = all.filter { window.contains($0.event.timestamp.nanosSinceEpoch) && filter.matches($0.event) }
                for order in [ReadOrder.oldestFirst, .newestFirst] {
                    let want = order == .oldestFirst ? expected : expected.reversed()
                    let got = try await reader.collect(Query(window: window, filter: filter, order: order))
                    #expect(got == want, "\(window) \(filter) \(order)")
                    let paged = try await readPages(reader, Query(window: window, filter: filter, order: order), pageSize: 23)
                    #expect(paged == want, "paged: \(window) \(filter) \(order)")
                }
            }
        }
    }

    @Test func answersEqualAFilterOverEveryRecord() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            try await Self.fill(log)
            // The writer's own view: the active segment's columns are in memory.
            try await Self.check(log)
            try await log.close()
            // A reader: the sealed segment's index file, the active one's checkpoint.
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(reader.segments.count == 2)
            try await Self.check(reader)
        }
    }

    /// The plan of "the last hour" of a day's segment: a few frames, one or two of them timed,
    /// and few enough records at the edges that their times come from the records.
    @Test func theLastHourOfADayIsAFewFramesWithRecordTimesAtTheEdge() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            try await Self.fill(log)
            try await log.close()
            let segment = log.segments[0]
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let view = try reader.context.indexes.view(segment, parts: [.verdicts])
            #expect(view.frames.count == 72)
            let window = TimeWindow(since: Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + 1_380 * Self.minute))
            let spans = try #require(ScanPlan.spans(view.frames, of: segment, window: window, range: 0..<720))
            let timed = ScanPlan.timedRecords(spans)
            let visited = spans.reduce(0) { $0 + $1.range.count }
            #expect(visited < 60 && visited >= 30, "\(spans)")
            #expect(timed > 0 && timed <= 20, "\(spans)")
            #expect(ScanPlan.readsRecordTimes(timed: timed, of: 720))
            // A frame directory that does not describe the segment gives no plan.
            var gap = view.frames
            gap.remove(at: 10)
            #expect(ScanPlan.spans(gap, of: segment, window: window, range: 0..<720) == nil)
            var outside = view.frames
            outside[3].maxTimestampNanos = Self.start.nanosSinceEpoch + 10 * 1_440 * Self.minute
            #expect(ScanPlan.spans(outside, of: segment, window: window, range: 0..<720) == nil)
        }
    }
}
