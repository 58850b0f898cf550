import Foundation
import Testing

@testable import AuditLog

/// The async streams of records and query results (batched reads on the I/O executor), and
/// the `Date`/`Duration` conveniences the README uses.
@Suite struct StreamingAndTimeTests {
    @Test func streamsEveryRecordInBothOrdersAcrossBatchesAndSegments() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 32 << 10))
            _ = try await log.append(events(5_000))
            var seqs: [UInt64] = []
            for try await r in log.records() { seqs.append(r.seq.rawValue) }
            #expect(seqs == Array(1...5_000))
            seqs = []
            for try await r in log.records(SequenceNumber(10)...SequenceNumber(4_000), order: .newestFirst) { seqs.append(r.seq.rawValue) }
            #expect(seqs == Array((10...4_000).reversed()))
            var blocked = 0
            for try await r in log.query(Query(filter: EventFilter(verdicts: [.block]), order: .oldestFirst)) {
                #expect(r.event.verdict == .block)
                blocked += 1
            }
            #expect(blocked == 1_250)
            // Leaving early reads no further than the batch in hand.
            var first: [UInt64] = []
            for try await r in log.query(Query(order: .newestFirst)) {
                first.append(r.seq.rawValue)
                if first.count == 3 { break }
            }
            #expect(first == [5_000, 4_999, 4_998])
            try await log.close()
        }
    }

    /// A batch holds 64 records, then 128, …; records that come quickly fill it on, up to
    /// 1,024 (one hand-over to the I/O thread instead of several); the sizes never skip a record.
    @Test func batchesGrowPastTheirSizeOnlyWhileRecordsComeQuickly() throws {
        func sizes(of count: Int, quickBatch: Duration) throws -> [Int] {
            let batches = RecordStream.Batches({ CountingSource(count) }, quickBatch: quickBatch)
            var sizes: [Int] = []
            var seqs: [UInt64] = []
            while true {
                let (records, finished) = try batches.next()
                sizes.append(records.count)
                while let r = records.take() { seqs.append(r.seq.rawValue) }
                if finished { break }
            }
            #expect(seqs == Array(0..<UInt64(count)))
            return sizes
        }
        // Slow (no time to spare): the sizes alone.
        #expect(try sizes(of: 300, quickBatch: .zero) == [64, 128, 108])
        #expect(try sizes(of: 500, quickBatch: .zero) == [64, 128, 256, 52])
        #expect(try sizes(of: 64, quickBatch: .zero) == [64, 0])
        // Quick: one batch up to the largest, then full ones.
        #expect(try sizes(of: 300, quickBatch: .seconds(3600)) == [300])
        #expect(try sizes(of: 2_500, quickBatch: .seconds(3600)) == [1024, 1024, 452])
    }

    /// A batch grows past the capacity it was made with, hands its records out once each in
    /// order, and releases the ones never taken.
    @Test func aRecordBatchHandsOutEachRecordOnceInOrder() {
        func record(_ seq: UInt64) -> Record {
            Record(seq: SequenceNumber(seq), event: AuditEvent(eventType: "type.\(seq).with.a.long.name", timestamp: Timestamp(nanosSinceEpoch: Int64(seq))))
        }
        let batch = RecordBatch(capacity: 2)
        for seq in 0..<10 as Range<UInt64> { batch.append(record(seq)) }
        #expect(batch.count == 10)
        var seqs: [UInt64] = []
        for _ in 0..<4 { if let r = batch.take() { seqs.append(r.seq.rawValue); #expect(r == record(r.seq.rawValue)) } }
        // Growing again after some were taken keeps the rest in order.
        for seq in 10..<40 as Range<UInt64> { batch.append(record(seq)) }
        while let r = batch.take() { seqs.append(r.seq.rawValue) }
        #expect(seqs == Array(0..<40))
        #expect(batch.take() == nil)
        // A batch dropped with records left in it releases them (no crash, no double release).
        let partial = RecordBatch(capacity: 1)
        for seq in 0..<5 as Range<UInt64> { partial.append(record(seq)) }
        #expect(partial.take()?.seq.rawValue == 0)
    }

    /// Records 0, 1, … `count` − 1, made on demand.
    private final class CountingSource: RecordSource {
        private let count: Int
        private var made = 0
        init(_ count: Int) { self.count = count }
        func next() throws(AuditLogError) -> Record? {
            guard made < count else { return nil }
            defer { made += 1 }
            return Record(seq: SequenceNumber(UInt64(made)), event: AuditEvent(eventType: "t", timestamp: Timestamp(nanosSinceEpoch: 0)))
        }
    }

    @Test func aQueryThatCannotStartThrowsAtTheFirstStep() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(3))
            let error = await #expect(throws: AuditLogError.self) {
                for try await _ in log.query(Query(cursor: "not-a-cursor")) {}
            }
            #expect(error?.code == .invalidArgument)
            try await log.close()
        }
    }

    @Test func aCursorBeyondTheLargestSeqIsRefusedNotTrapped() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(3))
            let tooLarge = [("o", UInt64.max), ("n", UInt64(Int64.max) + 1)]
            for (order, seq) in tooLarge {
                let query = Query(order: order == "o" ? .oldestFirst : .newestFirst, cursor: "c1" + order + String(seq, radix: 36))
                let error = await #expect(throws: AuditLogError.self) { _ = try await log.page(query) }
                #expect(error?.code == .invalidArgument)
            }
            // The largest seq there can be is a cursor: nothing after it, everything before it.
            let last = String(UInt64(Int64.max), radix: 36)
            #expect(try await log.page(Query(order: .oldestFirst, cursor: "c1o" + last)).records.isEmpty)
            #expect(try await log.page(Query(order: .newestFirst, cursor: "c1n" + last)).records.map(\.seq.rawValue) == [3, 2, 1])
            try await log.close()
        }
    }

    @Test func timeWindowsFromDurationsAndDates() {
        let now = Timestamp(rfc3339: "2026-03-20T12:00:00Z")!
        #expect(TimeWindow.last(.hours(1), now: now) == TimeWindow(since: Timestamp(rfc3339: "2026-03-20T11:00:00Z")!))
        #expect(TimeWindow.last(.days(2), now: now).since == Timestamp(rfc3339: "2026-03-18T12:00:00Z")!)
        #expect(TimeWindow.last(.minutes(90), now: now).since == Timestamp(rfc3339: "2026-03-20T10:30:00Z")!)
        #expect(TimeWindow.last(.milliseconds(1), now: now).since?.nanosSinceEpoch == now.nanosSinceEpoch - 1_000_000)
        let start = Date(timeIntervalSince1970: 1_000)
        let window = TimeWindow(start..<start.addingTimeInterval(60))
        #expect(window.since?.nanosSinceEpoch == 1_000_000_000_000 && window.until?.nanosSinceEpoch == 1_060_000_000_000)
        #expect(window.contains(1_000_000_000_000) && !window.contains(1_060_000_000_000))
    }

    @Test func durationArithmeticSaturatesInsteadOfTrapping() {
        let now = Timestamp(nanosSinceEpoch: 1_000)
        #expect((now + .seconds(1)).nanosSinceEpoch == 1_000_001_000)
        #expect((now - .nanoseconds(1_000)).nanosSinceEpoch == 0)
        #expect((now + .seconds(Int64.max)).nanosSinceEpoch == Int64.max)
        #expect((now - .seconds(Int64.max)).nanosSinceEpoch == 1_000 - Int64.max)
        #expect((Timestamp(nanosSinceEpoch: -1_000) - .seconds(Int64.max)).nanosSinceEpoch == Int64.min)
        #expect(Duration.days(Int64.max) == .seconds(Int64.max))
        #expect(TimeWindow.last(.seconds(Int64.max), now: Timestamp(nanosSinceEpoch: -1)).since?.nanosSinceEpoch == Int64.min)
        #expect(RetentionPolicy(maxAge: .days(90)) == RetentionPolicy.days(90))
        let expected: Int64 = 36 * 3_600_000_000_000
        let policy = RetentionPolicy(maxAge: .hours(36), maxTotalBytes: 5)
        #expect(policy.maxAgeNanos == expected && policy.maxTotalBytes == 5)
    }

    @Test func aRetentionPolicyOfNegativeAgeOrSizeIsRefusedAndAHugeOneKeepsEverything() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 16 << 10))
            _ = try await log.append(events(2_000))
            for policy in [RetentionPolicy(maxAgeNanos: Int64.min), RetentionPolicy(maxAgeNanos: -1), RetentionPolicy(maxTotalBytes: -5)] {
                let error = await #expect(throws: AuditLogError.self) { try await log.sweep(policy, actor: "test") }
                #expect(error?.code == .invalidArgument)
            }
            let report = try await log.sweep(RetentionPolicy(maxAge: .seconds(Int64.max)), actor: "test")
            #expect(report.recordsRemoved == 0)
            try await log.close()
        }
    }
}
