import Foundation
import Testing

@testable import AuditLog

/// A segment wholly inside a query's window is scanned without its timestamps column: the
/// answers are those of a plain filter over every record, whatever the filter, order, limit
/// and cursor.
@Suite struct CoveredSegmentTests {
    @Test func answersEqualAFilterOverEveryRecord() async throws {
        try await withTemporaryDirectory { dir in
            let day: Int64 = 86_400_000_000_000
            let start = Timestamp(rfc3339: "2026-03-18T00:00:00Z")!
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            for d in 0..<3 {
                _ = try await log.append(events(400, from: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + Int64(d) * day), stepSeconds: 180, prefix: "evt_d\(d)_"))
            }
            try await log.close()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(reader.segments.count == 3)
            let all = try await readAll(reader)
            let at = { (hours: Int64) in Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + hours * 3_600_000_000_000) }
            let windows = [
                TimeWindow(since: at(24), until: at(48)),  // exactly day 2
                TimeWindow(since: at(20), until: at(52)),  // day 2 and parts of days 1 and 3
                TimeWindow(since: at(0)),  // all of them
                TimeWindow(),
            ]
            let filters = [EventFilter(), EventFilter(verdicts: [.block]), EventFilter(users: ["user3@acme.com"])]
            for window in windows {
                for filter in filters {
                    let expected = all.filter { window.contains($0.event.timestamp.nanosSinceEpoch) && filter.matches($0.event) }
                    for order in [ReadOrder.oldestFirst, .newestFirst] {
                        let got = try await reader.collect(Query(window: window, filter: filter, order: order))
                        #expect(got == (order == .oldestFirst ? expected : expected.reversed()), "\(window) \(filter) \(order)")
                        // Pages of 7 by cursor give the same records.
                        let paged = try await readPages(reader, Query(window: window, filter: filter, order: order), pageSize: 7)
                        #expect(paged == got)
                    }
                }
            }
        }
    }
}
