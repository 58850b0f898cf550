import Foundation
import Testing

@testable import AuditLog

/// A row frame asked for few of its records is decompressed only as far as the last of them
/// likely ends (LZ4 stops there), and whole when that guess falls short or would save little:
/// every path returns exactly the records a whole frame does.
@Suite struct RowFramePrefixTests {
    /// Each user's events, the first time (frames read in part) and again (whole, cached as
    /// the budget allows), against the log's records filtered one by one.
    @Test func aUsersEventsReadInPartAreTheEventsTheLogHolds() async throws {
        try await withTemporaryDirectory { dir in
            try await writeGeneratedLog(dir, seed: 5, count: 20_000, days: 1, segmentBytes: 64 << 20).close()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            var all: [Record] = []
            for try await r in reader.records() { all.append(r) }
            #expect(all.count == 20_000)
            let users = Set(all.compactMap(\.event.user)).sorted()
            #expect(users.count > 100)
            for user in users.prefix(40) {
                let expected = all.filter { $0.event.user == user }
                let fresh = try await AuditLog.open(directory: dir, options: .readOnly)
                for order in [ReadOrder.oldestFirst, .newestFirst] {
                    var got: [Record] = []
                    for try await r in fresh.query(Query(filter: EventFilter(users: [user]), order: order)) { got.append(r) }
                    let same = got == (order == .oldestFirst ? expected : expected.reversed())
                    #expect(same, "\(user) \(order): \(got.count) records, \(expected.count) expected")
                }
                try await fresh.close()
            }
            try await reader.close()
        }
    }

    /// One frame of 100 records whose first ten are large: a guess from the average record
    /// falls short for the records after them (read whole instead), one near the end is read
    /// whole at once, and a record the guess covers is read from the prefix.
    @Test func aShortGuessReadsTheFrameWhole() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            var batch: [AuditEvent] = []
            for i in 0..<100 {
                var e = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: 1_700_000_000_000_000_000 + Int64(i) * 1_000_000))
                e.user = "user\(i)@acme.com"
                e.userAgent = i < 10 ? String(repeating: "agent \(i) ", count: 250) : "sdk/\(i)"
                batch.append(e)
            }
            _ = try await log.append(batch)
            try await log.close()

            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            var all: [Record] = []
            for try await r in reader.records() { all.append(r) }
            for ordinal in [2, 5, 9, 10, 20, 60, 95, 99] {
                let fresh = try await AuditLog.open(directory: dir, options: .readOnly)
                var got: [Record] = []
                for try await r in fresh.query(Query(filter: EventFilter(users: ["user\(ordinal)@acme.com"]))) { got.append(r) }
                #expect(got == [all[ordinal]], "record \(ordinal)")
                try await fresh.close()
            }
            try await reader.close()
        }
    }

    @Test func theGuessIsTheRecordsShareASixteenthMoreAndTwoRecords() {
        let h = FrameHeader(
            codec: .lz4, storedLengthBytes: 100, rawLengthBytes: 32_000, recordCount: 100, firstSeq: SequenceNumber(1),
            minTimestampNanos: 0, maxTimestampNanos: 0, chainAfter: ChainHash.zero, checksum: 0)
        // Records 0–9 of 100 at 320 bytes each: 3,200 + 200 + 640 + 64.
        #expect(SegmentWalker.Payload.prefixEstimate(through: 9, of: h) == 4_104)
        #expect(SegmentWalker.Payload.sparse([3, 9]).applied(to: h) == .sparse([3, 9]))
        // A guess short of the whole frame reads in part (29,440 + 1,840 + 704 = 31,984); one
        // that reaches it (32,324) decompresses it whole.
        #expect(SegmentWalker.Payload.sparse([91]).applied(to: h) == .sparse([91]))
        #expect(SegmentWalker.Payload.sparse([92]).applied(to: h) == .decompress)
        // More than a quarter of its records: whole.
        #expect(SegmentWalker.Payload.sparse(Array(0..<26)).applied(to: h) == .decompress)
        var raw = h
        raw.codec = .raw
        #expect(SegmentWalker.Payload.sparse([3]).applied(to: raw) == .decompress)
    }
}
