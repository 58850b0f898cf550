import Foundation
import Testing

@testable import AuditLog

/// The outside probe's second finding: sweep and hold records were ordinary event types, so a
/// client could forge a sweep (hiding a deleted segment from `verify`) or release a legal hold.
@Suite struct ReservedTypesTests {
    @Test(arguments: ["retention.sweep", "hold.placed", "hold.released", "log.recovered", "audit.read", "Hold.Released", "RETENTION.anything"])
    func noClientMayAppendAReservedType(_ type: String) async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(3))
            do throws(AuditLogError) {
                _ = try await log.append([AuditEvent(eventType: "decision", timestamp: .now), AuditEvent(eventType: type, timestamp: .now)])
                Issue.record("\(type) was appended by a client")
            } catch {
                #expect(error.code == .invalidEvent)
                #expect(error.location.field == "event_type")
                #expect(error.location.index == 1)
            }
            #expect(log.head.lastSeq == SequenceNumber(3))  // the batch was refused whole
            try await log.close()
        }
    }

    @Test func typesThatMerelyResembleReservedOnesAreFine() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            for type in ["retention", "holding.placed", "logs.rotated", "auditor.assigned", "model.enabled"] {
                _ = try await log.append(AuditEvent(eventType: type, timestamp: .now))
            }
            try await log.close()
        }
    }

    @Test func inputNamesTheLineOfAReservedType() throws {
        let input = """
            {"event_type":"decision","timestamp":"2026-03-20T10:30:00Z"}

            {"event_type":"hold.released","timestamp":"2026-03-20T10:30:00Z","details":{"hold_id":"evt_x"}}
            """
        let reader = EventInputReader(bytes: Array(input.utf8))
        _ = try reader.next()
        do throws(AuditLogError) {
            _ = try reader.next()
            Issue.record("a hold.released line was read")
        } catch {
            #expect(error.code == .invalidEvent && error.location.line == 3 && error.location.field == "event_type")
        }
        let array = EventInputReader(bytes: Array("[\n{\"event_type\":\"retention.sweep\",\"timestamp\":\"2026-03-20T10:30:00Z\"}]".utf8))
        #expect(throws: AuditLogError.self) { try array.next() }
    }

    /// Ten sealed days; a legal hold over day 2 placed before the sweep.
    func heldLog(_ dir: String) async throws -> (AuditLog, LegalHold) {
        let log = try await AuditLog.open(directory: dir, options: testOptions())
        for d in 0..<10 {
            let dayStart = Timestamp(nanosSinceEpoch: RetentionTests.start.nanosSinceEpoch + Int64(d) * RetentionTests.day)
            _ = try await log.append(events(72, from: dayStart, stepSeconds: 1200, prefix: "d\(d)-"))
        }
        let from = Timestamp(nanosSinceEpoch: RetentionTests.start.nanosSinceEpoch + RetentionTests.day)
        let hold = try await log.placeHold(from: from, until: Timestamp(nanosSinceEpoch: from.nanosSinceEpoch + RetentionTests.day), reason: "case 7", actor: "legal")
        return (log, hold)
    }

    /// A sweep record of day 2 as an older version's client could have ingested it, with the
    /// chain values read off the log: the deletion of the held day passed `verify` before.
    func forgeSweep(of segment: SegmentInfo, in log: AuditLog, maxAgeSeconds: Int64 = 7 * 86_400) async throws {
        let range = SweptRange(
            firstSeq: segment.firstSeq, lastSeq: try #require(segment.lastSeq), chainBefore: segment.anchor, chainAfter: segment.chainAfter,
            segments: ["segments/" + segment.fileName], records: segment.recordCount, bytes: segment.bytes,
            minTime: segment.minTimestamp, maxTime: segment.maxTimestamp)
        var event = AuditEvent(eventType: "retention.sweep", timestamp: RetentionTests.end)
        event.user = "mallory"
        event.details = .object([
            JSONMember("first_seq", .integer(range.firstSeq.rawValue)), JSONMember("last_seq", .integer(range.lastSeq.rawValue)),
            JSONMember("max_age_seconds", .integer(maxAgeSeconds)), JSONMember("max_size_bytes", .null),
            JSONMember("ranges", .array([range.jsonValue])),
        ])
        _ = try await log.append([event], origin: .log)
    }

    @Test func verifyNamesASweepThatDeletedHeldData() async throws {
        try await withTemporaryDirectory { dir in
            let (log, hold) = try await heldLog(dir)
            let held = log.segments[1]
            try await forgeSweep(of: held, in: log)
            try await log.close()
            try FileManager.default.removeItem(atPath: dir + "/segments/" + held.fileName)
            let report = try await AuditLog.verify(directory: dir)
            let issue = try #require(report.issues.first { $0.kind == .retention }, "\(report.issues)")
            #expect(issue.message.contains(hold.id))
            #expect(issue.seq == SequenceNumber(722))
            #expect(!report.issues.contains { $0.kind == .missing })  // the gap itself is "explained"
        }
    }

    @Test func verifyNamesASweepNewerThanItsOwnPolicyAllowed() async throws {
        try await withTemporaryDirectory { dir in
            let (log, _) = try await heldLog(dir)
            try await forgeSweep(of: log.segments[7], in: log)  // 2 days old at the sweep: kept by a 7-day policy
            try await log.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.issues.contains { $0.kind == .retention && $0.message.contains("policy") }, "\(report.issues)")
        }
    }

    @Test func genuineSweepsAroundAHoldVerify() async throws {
        try await withTemporaryDirectory { dir in
            let (log, hold) = try await heldLog(dir)
            let report = try await log.sweep(.days(7), actor: "ops", now: RetentionTests.end)
            #expect(report.heldSegments.count == 1 && report.segments.count == 2)
            #expect(report.ranges.allSatisfy { $0.minTime != nil && $0.maxTime != nil })
            try await log.releaseHold(hold.id, actor: "legal")
            _ = try await log.sweep(.days(7), actor: "ops", now: RetentionTests.end)
            try await log.close()
            let verify = try await AuditLog.verify(directory: dir)
            #expect(verify.isIntact, "\(verify.issues)")
            #expect(verify.sweptRecords == 216)
        }
    }
}
