import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// What `verify` checks of `retention.sweep` records (docs/FORMAT.md, "Retention sweeps and
/// gaps"): each sweep against its own policy and the holds in force when it ran — the ranges it
/// deleted itself, not those it carries from earlier records that later sweeps removed in turn.
@Suite struct RetentionAuditTests {
    static let hour: Int64 = 3_600_000_000_000

    static func at(_ hhmm: String) -> Timestamp {
        Timestamp(rfc3339: "2026-03-01T\(hhmm):00Z") ?? Timestamp(nanosSinceEpoch: 0)
    }

    func event(_ hhmm: String, _ id: String) -> AuditEvent {
        var e = AuditEvent(eventType: "decision", timestamp: Self.at(hhmm))
        e.id = id
        e.verdict = .allow
        return e
    }

    func options() -> AuditLogOptions {
        var o = testOptions()
        o.partition = .hour
        return o
    }

    /// Sweeps run by callers whose clocks disagree (the crash test's runs did): a later sweep
    /// with an earlier `now` carries a range an earlier sweep deleted under a later `now`. Once
    /// the earlier sweep's record is itself swept, the carried range must not be judged against
    /// the later sweep's time — it was not deleted then.
    @Test func aCarriedRangeIsNotJudgedByTheSweepThatCarriesIt() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: options())
            // S0 (hour 5), S1 (hour 6), S2 (hour 7, active).
            _ = try await log.append([event("05:10", "a"), event("05:50", "b")])
            _ = try await log.append([event("06:10", "c")])
            _ = try await log.append([event("07:05", "d")])
            let hold = try await log.placeHold(from: Self.at("05:00"), until: Self.at("06:00"), reason: "case 1", actor: "legal", now: Self.at("07:06"))
            // A, now 07:30: S0 is held, S1 (max 06:10) goes; A's record lands in S2.
            let a = try await log.sweep(RetentionPolicy(maxAgeNanos: Self.hour), actor: "ops", now: Self.at("07:30"))
            #expect(a.recordsRemoved == 1 && a.heldSegments.count == 1)
            _ = try await log.append([event("08:05", "e"), event("08:50", "f")])  // S3
            try await log.releaseHold(hold.id, actor: "legal", now: Self.at("08:06"))
            // B, by a clock 30 minutes behind: S0 (max 05:50) goes; it carries A's range (max
            // 06:10, newer than B's own cutoff of 06:00). B's record lands in S3.
            let b = try await log.sweep(RetentionPolicy(maxAgeNanos: Self.hour), actor: "ops", now: Self.at("07:00"))
            #expect(b.recordsRemoved == 2)
            _ = try await log.append([event("09:05", "g")])  // S4
            // C, now 09:20: S2 (max 07:30, with A's record) goes; S3 stays.
            let c = try await log.sweep(RetentionPolicy(maxAgeNanos: Self.hour), actor: "ops", now: Self.at("09:20"))
            #expect(c.recordsRemoved == 3)
            #expect(try await log.record(at: try #require(a.recordSeq)) == nil)
            #expect(try await log.record(at: try #require(b.recordSeq)) != nil)
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.issues.isEmpty, "\(report.issues)")
        }
    }

    /// A sweep record claiming to have deleted events newer than its own policy allowed is
    /// reported (such a record can only be written past the API: here through the log's own
    /// append path, as a hostile operator's tool would).
    @Test func aSweepDeletingNewerThanItsPolicyIsReported() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: options())
            _ = try await log.append([event("05:10", "a"), event("05:50", "b")])
            _ = try await log.append([event("06:10", "c")])
            _ = try await log.append([event("07:05", "d")])
            // A record as a sweep by age at 06:30 (cutoff 05:30) would write had it deleted S1
            // (events up to 06:10), which it could not have.
            let s1 = log.segments[1]
            let range = SweptRange(
                firstSeq: s1.firstSeq, lastSeq: try #require(s1.lastSeq), chainBefore: s1.anchor, chainAfter: s1.chainAfter,
                segments: [LogDirectory.displayName(s1.fileName)], records: s1.recordCount, bytes: s1.bytes, minTime: s1.minTimestamp,
                maxTime: s1.maxTimestamp)
            var forged = AuditEvent(eventType: SweepRecord.eventType, timestamp: Self.at("06:30"))
            forged.user = "ops"
            forged.details = .object([
                JSONMember("segments", .array(range.segments.map { .string($0) })),
                JSONMember("max_age_seconds", .integer(3600)),
                JSONMember("max_size_bytes", .null),
                JSONMember("ranges", .array([range.jsonValue])),
            ])
            _ = try await log.append([forged], origin: .log)
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            let findings = report.issues.filter { $0.kind == .retention }.map(\.message)
            #expect(findings.contains { $0.contains("newer than its own policy of 3600 s allowed at 2026-03-01T06:30:00") }, "\(findings)")
        }
    }

    /// A sweep decides segment by segment whether a hold covers it; `verify` checks each range's
    /// times. Event times need not grow with seqs: three adjacent expired segments, none inside
    /// a held half hour, can span it between them. The sweep records them as two ranges split
    /// there, and `verify` finds nothing.
    @Test func adjacentSegmentsAroundAHeldWindowAreRecordedApart() async throws {
        try await withTemporaryDirectory { dir in
            var sealing = options()
            sealing.segmentSizeLimitBytes = 4096  // every append seals its segment
            let log = try await AuditLog.open(directory: dir, options: sealing)
            func sealed(_ hhmm: String, _ id: String) -> AuditEvent {
                var e = event(hhmm, id)
                let noise = (0..<640).map { _ in UInt64.random(in: 0...UInt64.max) }
                e.details = .object([JSONMember("noise", .string(noise.map { String($0, radix: 16) }.joined()))])
                return e
            }
            _ = try await log.append([sealed("03:10", "a")])  // S0
            _ = try await log.append([sealed("04:10", "b")])  // S1
            _ = try await log.append([sealed("01:10", "c")])  // S2
            _ = try await log.append([event("05:05", "e")])  // active
            _ = try await log.placeHold(from: Self.at("02:00"), until: Self.at("02:30"), reason: "case 2", actor: "legal", now: Self.at("05:06"))
            let sweep = try await log.sweep(RetentionPolicy(maxAgeNanos: Self.hour), actor: "ops", now: Self.at("07:00"))
            #expect(sweep.segments.count == 3 && sweep.heldSegments.isEmpty)
            #expect(sweep.ranges.map { [$0.firstSeq.rawValue, $0.lastSeq.rawValue] } == [[1, 2], [3, 3]])
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.issues.isEmpty, "\(report.issues)")
        }
    }
}
