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

    /// A frame of `payload` bytes and one record.
    private func frame(_ payload: Int) -> DecodedFrame {
        DecodedFrame(payload: [UInt8](repeating: 7, count: payload), ranges: [0..<payload])
    }

    private func key(_ segment: UInt64, _ offset: Int64) -> FrameCache.Key {
        FrameCache.Key(segment: SequenceNumber(segment), offset: offset)
    }

    @Test func theLeastRecentlyUsedFrameGoesFirstAndAUseRefreshesIt() {
        let one = DecodedFrame.bytes(payload: 100, records: 1)
        let cache = FrameCache(capacityBytes: 8 * one)
        for i in 0..<8 { cache.insert(frame(100), for: key(1, Int64(i) * 1000)) }
        #expect(cache.bytes == 8 * one)
        // Frame 0 used again: frame 1 is now the least recently used.
        #expect(cache.frame(key(1, 0)) != nil)
        cache.insert(frame(100), for: key(9, 0))
        #expect(cache.bytes == 8 * one)
        #expect(!cache.contains(key(1, 1000)))
        #expect(cache.contains(key(1, 0)) && cache.contains(key(1, 2000)) && cache.contains(key(9, 0)))
        // A frame twice as large takes the two least recently used (2 and 3) out.
        cache.insert(frame(100 + one), for: key(9, 1000))
        #expect(!cache.contains(key(1, 2000)) && !cache.contains(key(1, 3000)))
        #expect(cache.contains(key(1, 4000)) && cache.contains(key(1, 0)) && cache.contains(key(9, 1000)))
        #expect(cache.bytes == 8 * one)
        // `contains` is not a use: frame 4 is still the oldest and goes next.
        cache.insert(frame(100), for: key(9, 2000))
        #expect(!cache.contains(key(1, 4000)) && cache.contains(key(1, 5000)))
        #expect(cache.bytes == 8 * one)
        // The same segment at another offset, or another segment at the same offset, is
        // another frame.
        #expect(cache.frame(key(9, 3000)) == nil && cache.frame(key(8, 0)) == nil)
    }

    @Test func aFrameInsertedAgainReplacesItsBytesAndTooLargeAFrameIsNotKept() {
        let cache = FrameCache(capacityBytes: 10_000)
        cache.insert(frame(1000), for: key(1, 0))
        cache.insert(frame(2000), for: key(1, 0))
        #expect(cache.bytes == DecodedFrame.bytes(payload: 2000, records: 1))
        #expect(cache.frame(key(1, 0))?.payload.count == 2000)
        cache.insert(frame(2500), for: key(2, 0))
        #expect(!cache.contains(key(2, 0)))
        #expect(cache.bytes == DecodedFrame.bytes(payload: 2000, records: 1))
    }

    @Test func manyFramesThroughASmallCacheKeepTheNewestAndTheByteCount() {
        let one = DecodedFrame.bytes(payload: 64, records: 1)
        let cache = FrameCache(capacityBytes: 50 * one)
        for i in 0..<10_000 {
            cache.insert(frame(64), for: key(UInt64(i / 100 + 1), Int64(i % 100) * 88))
            // Every tenth frame is read again at once, so the newest 50 stay in use.
            if i % 10 == 0 { #expect(cache.frame(key(UInt64(i / 100 + 1), Int64(i % 100) * 88)) != nil) }
        }
        #expect(cache.bytes == 50 * one)
        for i in 9_950..<10_000 { #expect(cache.contains(key(UInt64(i / 100 + 1), Int64(i % 100) * 88))) }
        #expect(!cache.contains(key(100, 49 * 88)))
    }

    /// The cache's size is an option: by default a share of memory within bounds, 0 for none
    /// (every answer the same, nothing kept), never negative.
    @Test func theCacheSizeIsAnOption() async throws {
        #expect(AuditLogOptions.defaultFrameCacheBytes >= 32 << 20 && AuditLogOptions.defaultFrameCacheBytes <= 512 << 20)
        #expect(AuditLogOptions().frameCacheBytes == AuditLogOptions.defaultFrameCacheBytes)
        try await withTemporaryDirectory { dir in
            try await writeGeneratedLog(dir, seed: 3, count: 5_000, days: 1, segmentBytes: 64 << 20).close()
            var options = AuditLogOptions.readOnly
            options.frameCacheBytes = 0
            let uncached = try await AuditLog.open(directory: dir, options: options)
            let cached = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(uncached.frames.capacity == 0 && cached.frames.capacity == AuditLogOptions.defaultFrameCacheBytes)
            let q = Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 20)
            for _ in 0..<3 {
                let a = try await uncached.page(q).records
                #expect(a.count == 20)
                #expect(try await cached.page(q).records == a)
            }
            #expect(uncached.frames.bytes == 0)
            #expect(cached.frames.bytes > 0)
            options.frameCacheBytes = -1
            let error = await #expect(throws: AuditLogError.self) { try await AuditLog.open(directory: dir, options: options) }
            #expect(error?.code == .invalidArgument)
            try await uncached.close()
            try await cached.close()
        }
    }

    @Test func anExportFillsAtMostAQuarterOfTheCacheAndASelectiveQueryIsCachedWhole() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            var generator = EventGenerator(seed: 9, count: 40_000, days: 1, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
            var batch: [AuditEvent] = []
            while let e = generator.next() { batch.append(e) }
            _ = try await log.append(batch)
            try await log.close()

            // A cache smaller than the export's frames (the default may hold them all).
            var options = AuditLogOptions.readOnly
            options.frameCacheBytes = 32 << 20
            let reader = try await AuditLog.open(directory: dir, options: options)
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
