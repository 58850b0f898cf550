import Foundation
import Testing

@testable import AuditLog

/// The frame cache keeps what bounded and selective queries read again; a query without a
/// limit places at most a quarter of it there, so an export cannot evict what dashboards reuse.
@Suite struct FrameCacheTests {
    @Test func aBudgetGivesOutWhatItHasAndNoMore() {
        let cache = FrameCache(capacityBytes: 1000)
        let unbounded = cache.budget(bounded: false)
        #expect(unbounded.take(200))
        #expect(!unbounded.take(51))
        #expect(unbounded.take(50))
        #expect(!unbounded.take(1))
        #expect(cache.budget(bounded: true).take(1 << 40))
    }

    @Test func anExportFillsAtMostAQuarterOfTheCacheAndASelectiveQueryIsCachedWhole() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            var generator = EventGenerator(seed: 9, count: 40_000, days: 1, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
            var batch: [AuditEvent] = []
            while let e = generator.next() { batch.append(e) }
            _ = try await log.append(batch)
            try await log.close()

            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let cache = reader.frames

            // One user's events (no limit, but few records a frame): the first time each
            // frame is read in part, decompressed into the reader's own buffer and not cached
            // (a one-off read leaves the cache alone); read again, all of them cached; and the
            // same answer a third time from the cache alone.
            let user = batch[20_000].user ?? ""
            let q = Query(filter: EventFilter(users: [user]), order: .oldestFirst)
            var first: [Record] = []
            for try await r in reader.query(q) { first.append(r) }
            #expect(first.count == batch.filter { $0.user == user }.count)
            #expect(cache.bytes == 0)
            var second: [Record] = []
            for try await r in reader.query(q) { second.append(r) }
            #expect(second == first)
            let afterQuery = cache.bytes
            #expect(afterQuery > 0)
            var again: [Record] = []
            for try await r in reader.query(q) { again.append(r) }
            #expect(again == first)
            #expect(cache.bytes == afterQuery)

            // A whole export (about 24 MB of frames) adds at most a quarter of the cache.
            var exported = 0
            for try await _ in reader.query(Query(order: .oldestFirst)) { exported += 1 }
            #expect(exported == 40_000)
            let added = cache.bytes - afterQuery
            #expect(added > 0 && added <= cache.capacity / 4, "\(added)")
        }
    }
}
