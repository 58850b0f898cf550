import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// A sweep's record must keep explaining every gap after the segment that holds it is swept in
/// turn: the newest records carry what older ones named. These are the cases where a sweep cut
/// short (its record durable, some files still there) made a later sweep leave a gap no record
/// explains, so that the next writer refused the log.
@Suite(.serialized) struct InterruptedSweepTests {
    static let day = RetentionTests.day
    static func day(_ d: Int64) -> Timestamp { Timestamp(nanosSinceEpoch: RetentionTests.start.nanosSinceEpoch + d * day) }

    /// Sweeps seven days at `now` on `faults`' log with every segment deletion after the first
    /// `deleting` failing (as a crash between two deletions, or before the first): its record
    /// is durable, the rest of its segments stay.
    func interruptedSweep(
        _ log: AuditLog, _ faults: FaultInjectingFileSystem, deleting: Int, policy: RetentionPolicy = .days(7), now: Timestamp
    ) async throws {
        faults.inject(.init(operation: .remove, matching: ".seg", after: deleting, times: nil, fault: .fail(EIO)))
        await #expect(throws: AuditLogError.self) { _ = try await log.sweep(policy, actor: "ops", now: now) }
        faults.clear()
    }

    func expectOpensAndVerifies(_ dir: String, _ comment: Comment) async throws {
        do throws(AuditLogError) {
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            try await log.close()
        } catch {
            Issue.record("the log does not open: \(error.message) — \(comment)")
        }
        let report = try await AuditLog.verify(directory: dir)
        #expect(report.isIntact, "\(report.issues) — \(comment)")
    }

    /// Days 0–2 expire at day 10; the sweep deletes day 0 and stops: its record, in the
    /// day-10 segment, names days 0–2. A hold keeps day 2; the next sweep (days 1 and 3) must
    /// still name day 0, which only the interrupted record named, before that record's segment
    /// goes with days 4–10.
    @Test func aPartlyDeletedRangeIsCarriedWhileAHoldKeepsTheRest() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            let log = try await RetentionTests().tenDayLog(dir, fileSystem: faults)
            let segments = log.segments
            try await interruptedSweep(log, faults, deleting: 1, now: Self.day(10))
            #expect(!FileManager.default.fileExists(atPath: dir + "/segments/" + segments[0].fileName))
            #expect(FileManager.default.fileExists(atPath: dir + "/segments/" + segments[1].fileName))
            let held = Self.day(2) + .nanoseconds(3_600_000_000_000)
            _ = try await log.placeHold(from: held, until: held + .nanoseconds(1_000_000_000), reason: "litigation 7", actor: "legal", now: Self.day(11))
            let second = try await log.sweep(.days(7), actor: "ops", now: Self.day(11))
            #expect(second.segments.map(\.fileName) == [segments[1].fileName, segments[3].fileName])
            let last = try await log.sweep(.days(7), actor: "ops", now: Self.day(18))
            #expect(last.segments.contains { $0.minTimestamp == Self.day(10) }, "the first record's segment went")
            try await log.close()
            try await expectOpensAndVerifies(dir, "after the interrupted record's segment was swept")
        }
    }

    /// A sweep that only finishes deletions already recorded writes no record — unless a
    /// segment it deletes holds the only record naming some of them. Two sweeps stop before
    /// deleting anything: the first names days 0–2 (its record in the day-10 segment); with
    /// days 0–2 held, the second names days 3–10 (its record in the day-18 segment) and not
    /// 0–2, all still there. Then, with day 3 held instead, a sweep deletes days 0–2 and 4–10,
    /// each inside a recorded range, and the day-10 segment with the only record of 0–2.
    @Test func finishingRecordedDeletionsThatTakeTheirRecordAlongRecordsAgain() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            let log = try await RetentionTests().tenDayLog(dir, fileSystem: faults)
            try await interruptedSweep(log, faults, deleting: 0, now: Self.day(10))
            let first = try await log.placeHold(from: Self.day(0), until: Self.day(3), reason: "litigation 7", actor: "legal", now: Self.day(11))
            try await interruptedSweep(log, faults, deleting: 0, now: Self.day(18))
            #expect(try segmentPaths(dir).count == log.segments.count, "nothing was deleted")
            try await log.releaseHold(first.id, actor: "legal", now: Self.day(19))
            _ = try await log.placeHold(from: Self.day(3), until: Self.day(4), reason: "litigation 8", actor: "legal", now: Self.day(19))
            let report = try await log.sweep(.days(7), actor: "ops", now: Self.day(18))
            #expect(report.segments.compactMap(\.minTimestamp) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10].map { Self.day($0) })
            #expect(report.recordSeq != nil, "the record of days 0–2 went with the day-10 segment: a new one must name them")
            try await log.close()
            try await expectOpensAndVerifies(dir, "after the only record of days 0–2 was swept")
        }
    }

    /// A range a sweep carries whole from an earlier record that is gone was deleted under that
    /// record's policy and holds, even where this sweep finished it. A sweep by size that stops
    /// after day 0 names days 0–1; a hold on day 0 comes after; a sweep by age deletes day 1 and
    /// the segment with the first record, and carries days 0–1. `verify` must not take day 0,
    /// which the hold covers, as deleted by the sweep that ran under the hold.
    @Test func aCarriedRangeTheSweepFinishedIsNotCheckedAgainstItsHolds() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            let log = try await RetentionTests().tenDayLog(dir, fileSystem: faults)
            let segments = log.segments
            let total = segments.reduce(Int64(0)) { $0 + $1.bytes }
            let bySize = RetentionPolicy(maxAgeNanos: nil, maxTotalBytes: total - segments[0].bytes - segments[1].bytes)
            try await interruptedSweep(log, faults, deleting: 1, policy: bySize, now: Self.day(10))
            #expect(!FileManager.default.fileExists(atPath: dir + "/segments/" + segments[0].fileName))
            let held = Self.day(0) + .nanoseconds(3_600_000_000_000)
            _ = try await log.placeHold(from: held, until: held + .nanoseconds(1_000_000_000), reason: "litigation 9", actor: "legal", now: Self.day(11))
            let report = try await log.sweep(.days(7), actor: "ops", now: Self.day(18))
            #expect(report.segments.first?.fileName == segments[1].fileName)
            #expect(report.segments.contains { $0.minTimestamp == Self.day(10) }, "the first record's segment went")
            try await log.close()
            try await expectOpensAndVerifies(dir, "after a sweep finished a carried range under a hold on its deleted part")
        }
    }

    /// A sweep that deletes all of a range an interrupted sweep recorded names those seqs in its
    /// own ranges, split around the holds now in force; carrying the old range as well, with
    /// times that span a hold placed since, would read as a deletion under that hold. Days
    /// 0–2 are recorded and nothing deleted; a hold on day 0's last, empty twenty minutes
    /// comes after; a sweep deletes days 0–10 with the first record.
    @Test func aRecordedRangeTheSweepDeletesWholeIsNotCarried() async throws {
        try await withTemporaryDirectory { dir in
            let faults = FaultInjectingFileSystem()
            let log = try await RetentionTests().tenDayLog(dir, fileSystem: faults)
            try await interruptedSweep(log, faults, deleting: 0, now: Self.day(10))
            let held = Self.day(1) - .nanoseconds(600_000_000_000)
            _ = try await log.placeHold(from: held, until: held + .nanoseconds(1_000_000_000), reason: "litigation 10", actor: "legal", now: Self.day(11))
            let report = try await log.sweep(.days(7), actor: "ops", now: Self.day(18))
            #expect(report.segments.compactMap(\.minTimestamp) == (0...10).map { Self.day($0) })
            #expect(report.ranges.count == 2, "split around the hold")
            try await log.close()
            try await expectOpensAndVerifies(dir, "after a sweep deleted a recorded range whole")
        }
    }
}
