import AuditLogServices
import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

@Suite(.serialized) struct RetentionTests {
    static let day: Int64 = 86_400_000_000_000
    static let start = Timestamp(rfc3339: "2026-03-01T00:00:00Z")!
    static var end: Timestamp { Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + 10 * day) }

    /// Ten day partitions, one event every 20 minutes (72 a day), all sealed but the last.
    func tenDayLog(_ dir: String, fileSystem: any FileSystem = PosixFileSystem()) async throws -> AuditLog {
        let log = try await AuditLog.open(directory: dir, options: testOptions(), fileSystem: fileSystem)
        for d in 0..<10 {
            let dayStart = Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + Int64(d) * Self.day)
            _ = try await log.append(events(72, from: dayStart, stepSeconds: 1200, prefix: "d\(d)-"))
        }
        return log
    }

    /// Appends events at `time` to `log` (opened with 4 KiB segments) until its newest segment
    /// is full: at least one, so a full segment is followed by a new one.
    func fill(_ log: AuditLog, _ time: Timestamp) async throws {
        var n = 0
        repeat {
            _ = try await log.append(events(1, from: time, prefix: "fill-\(time.nanosSinceEpoch)-\(n)-"))
            n += 1
        } while (log.segments.last?.bytes ?? 0) < 4096
    }

    func sweepCount(_ log: AuditLog) async throws -> Int {
        try await log.page(Query(filter: EventFilter(fields: ["event_type": ["retention.sweep"]]), limit: 1000)).records.count
    }

    /// Queries, usage and id lookups after a sweep see exactly the remaining events.
    func checkRemaining(_ log: AuditLog, removedIDPrefix: String?) async throws {
        let all = try await readAll(log)
        for filter in [EventFilter(), EventFilter(verdicts: [.block]), EventFilter(users: ["user3@acme.com"])] {
            var got: [SequenceNumber] = []
            for try await r in log.query(Query(filter: filter, order: .oldestFirst)) { got.append(r.seq) }
            #expect(got == all.filter { filter.matches($0.event) }.map(\.seq))
        }
        let usage = try await log.usage(groupBy: [.model])
        #expect(usage.totals.requests == Int64(all.count))
        #expect(usage.totals.cost.nanodollars == all.reduce(0) { $0 + ($1.event.cost?.nanodollars ?? 0) })
        if let removedIDPrefix { #expect(try await log.event(id: removedIDPrefix + "0") == nil) }
    }

    @Test func sweepRemovesExactlyTheExpiredSegmentsAndRecordsIt() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await tenDayLog(dir)
            let before = log.segments
            let dry = try await log.sweep(.days(7), actor: "ops@acme.com", now: Self.end, dryRun: true)
            #expect(dry.segments.count == 3 && dry.recordSeq == nil)
            #expect(log.segments == before)  // a dry run frees nothing
            let report = try await log.sweep(.days(7), actor: "ops@acme.com", reason: "90-day policy", now: Self.end)
            // Newest event of the first three days is older than end - 7 days.
            #expect(report.segments.map(\.fileName) == before.prefix(3).map(\.fileName))
            #expect(report.recordsRemoved == 216)
            #expect(report.bytesFreed > 0)
            #expect(try segmentPaths(dir).count == 8)  // 7 left + the sweep's own day partition
            let recordSeq = try #require(report.recordSeq)
            let record = try #require(try await log.record(at: recordSeq))
            #expect(record.event.eventType == "retention.sweep")
            #expect(record.event.user == "ops@acme.com")
            #expect(record.event.details?["first_seq"] == .number("1"))
            #expect(record.event.details?["last_seq"] == .number("216"))
            try await checkRemaining(log, removedIDPrefix: "d0-")
            try await log.close()
            let verify = try await AuditLog.verify(directory: dir)
            #expect(verify.isIntact, "\(verify.issues)")
            #expect(verify.sweptRecords == 216)
            // Reopening works; a second sweep has nothing left to do.
            let again = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(try await again.sweep(.days(7), actor: "ops", now: Self.end).segments.isEmpty)
            try await again.close()
        }
    }

    @Test func aHoldProtectsOneSegmentAmongExpiredOnes() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await tenDayLog(dir)
            let segments = log.segments
            let heldDay = Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + Self.day + 3_600_000_000_000)
            let hold = try await log.placeHold(from: heldDay, until: Timestamp(nanosSinceEpoch: heldDay.nanosSinceEpoch + 1_000_000_000), reason: "litigation 42", actor: "legal@acme.com")
            #expect(try await log.holds().map(\.id) == [hold.id])
            let report = try await log.sweep(.days(7), actor: "ops", now: Self.end)
            #expect(report.segments.map(\.fileName) == [segments[0].fileName, segments[2].fileName])
            #expect(report.heldSegments.map(\.fileName) == [segments[1].fileName])
            #expect(FileManager.default.fileExists(atPath: dir + "/segments/" + segments[1].fileName))
            try await checkRemaining(log, removedIDPrefix: "d0-")
            #expect(try await AuditLog.verify(directory: dir).isIntact)
            // Released, the held segment goes at the next sweep; the log still verifies.
            try await log.releaseHold(hold.id, actor: "legal@acme.com", reason: "settled")
            #expect(try await log.holds().isEmpty)
            let second = try await log.sweep(.days(7), actor: "ops", now: Self.end)
            #expect(second.segments.map(\.fileName) == [segments[1].fileName])
            try await checkRemaining(log, removedIDPrefix: "d1-")
            try await log.close()
            let verify = try await AuditLog.verify(directory: dir)
            #expect(verify.isIntact, "\(verify.issues)")
            #expect(verify.sweptRecords == 216)
        }
    }

    /// A hold's release outlives its placement: swept first, it would leave the `hold.placed`
    /// record alone, the hold in force again and every later sweep reported as breaking it (found
    /// by the crash writer once it placed holds: its event times run back between runs).
    @Test func aReleaseIsKeptWhileItsHoldsPlacementIsInTheLog() async throws {
        try await withTemporaryDirectory { dir in
            func day(_ d: Int64) -> Timestamp { Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + d * Self.day) }
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
            _ = try await log.append(events(20, from: day(0), stepSeconds: 600, prefix: "old-"))
            // Placed at day 12 in a segment filled to its limit with day-12 events, released at
            // day 11 (event time need not grow) as the first record of the next: the release's
            // segment is the older by time.
            let hold = try await log.placeHold(from: day(0), until: day(1), reason: "case 9", actor: "legal", now: day(12))
            try await fill(log, day(12))
            try await log.releaseHold(hold.id, actor: "legal", now: day(11))
            _ = try await log.append(events(1, from: day(20), prefix: "late-"))
            let release = try #require(log.segments.first { $0.maxTimestamp == day(11) })
            let first = try await log.sweep(.days(7), actor: "ops", now: day(19))
            #expect(first.segments.allSatisfy { ($0.maxTimestamp ?? day(99)) < day(1) }, "the day-0 segments")
            #expect(first.heldSegments == [release], "the release stays while its placement does")
            #expect(first.kept.first?.releases == [hold.id] && first.kept.first?.holds == [])
            #expect(try await log.holds().isEmpty)
            // Both go together once the placement expires.
            let second = try await log.sweep(.days(7), actor: "ops", now: day(21))
            #expect(second.segments.last == release && second.segments.count >= 2)
            #expect(try await log.holds().isEmpty)
            try await log.close()
            let verify = try await AuditLog.verify(directory: dir)
            #expect(verify.isIntact, "\(verify.issues)")
        }
    }

    /// Keeping a release can keep another hold's placement, whose release must then stay too:
    /// hold K placed in segment A (not expiring), released in B, where hold H is placed; H
    /// released in C. B stays for K's release, so C must stay for H's (found by the power-cut
    /// test, a first version deciding once).
    @Test func aKeptReleaseKeepsTheReleaseOfAHoldPlacedBesideIt() async throws {
        try await withTemporaryDirectory { dir in
            func day(_ d: Int64) -> Timestamp { Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + d * Self.day) }
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
            _ = try await log.append(events(20, from: day(0), stepSeconds: 600, prefix: "old-"))
            let k = try await log.placeHold(from: day(0), until: day(1), reason: "K", actor: "legal", now: day(12))
            try await fill(log, day(12))
            try await log.releaseHold(k.id, actor: "legal", now: day(5))
            let h = try await log.placeHold(from: day(0), until: day(1), reason: "H", actor: "legal", now: day(5))
            try await fill(log, day(5))
            try await log.releaseHold(h.id, actor: "legal", now: day(5))
            _ = try await log.append(events(1, from: day(20), prefix: "late-"))
            #expect(try await log.holds().isEmpty)
            let report = try await log.sweep(.days(7), actor: "ops", now: day(13))
            #expect(!report.segments.isEmpty)
            #expect(report.heldSegments.count == 2, "the segments of both releases")
            #expect(try await log.holds().isEmpty, "no hold came back")
            try await log.close()
            let verify = try await AuditLog.verify(directory: dir)
            #expect(verify.isIntact, "\(verify.issues)")
        }
    }

    /// A sweep by size that keeps a release's segment (its hold's placement stays, in a segment
    /// held for another hold's record) deletes the next segment in its place, so that the log
    /// comes down to its size in one sweep.
    /// What `auditlog sweep` says of a kept segment, for each reason and for several holds.
    @Test func aKeptSegmentSaysWhichHoldsKeepIt() {
        #expect(KeptSegment.why(holds: ["h1"], releases: []) == "under legal hold h1")
        #expect(KeptSegment.why(holds: ["h1", "h2"], releases: []) == "under legal holds h1, h2")
        #expect(KeptSegment.why(holds: [], releases: ["k"]) == "holds the release of legal hold k (the hold's placement stays)")
        #expect(KeptSegment.why(holds: ["h"], releases: ["k1", "k2"]) == "under legal hold h; holds the release of legal holds k1, k2 (the hold's placement stays)")
    }

    @Test func aSizeSweepGoesOnPastAKeptRelease() async throws {
        try await withTemporaryDirectory { dir in
            func day(_ d: Int64) -> Timestamp { Timestamp(nanosSinceEpoch: Self.start.nanosSinceEpoch + d * Self.day) }
            let log = try await AuditLog.open(directory: dir, options: testOptions(segmentBytes: 4096))
            // A: the placements of H (in force) and K; B: K's release; C, D: events.
            _ = try await log.placeHold(from: day(50), until: day(51), reason: "H", actor: "legal", now: day(1))
            let k = try await log.placeHold(from: day(50), until: day(51), reason: "K", actor: "legal", now: day(1))
            try await fill(log, day(1))
            try await log.releaseHold(k.id, actor: "legal", now: day(2))
            try await fill(log, day(2))
            try await fill(log, day(3))
            try await fill(log, day(4))
            _ = try await log.append(events(1, from: day(20), prefix: "late-"))
            let segments = log.segments
            try #require(segments.count == 5)
            let total = segments.reduce(Int64(0)) { $0 + $1.bytes }
            let policy = RetentionPolicy(maxAgeNanos: nil, maxTotalBytes: total - segments[1].bytes - segments[2].bytes)
            let report = try await log.sweep(policy, actor: "ops", now: day(21))
            #expect(report.heldSegments == [segments[0], segments[1]], "A for H's placement, B for K's release")
            let h = try #require(try await log.holds().first)
            #expect(report.kept.map(\.holds) == [[h.id], []] && report.kept.map(\.releases) == [[], [k.id]], "\(report.kept)")
            #expect(report.segments == [segments[2], segments[3]], "D in B's place")
            #expect(try await log.holds().map(\.reason) == ["H"])
            try await log.close()
            let verify = try await AuditLog.verify(directory: dir)
            #expect(verify.isIntact, "\(verify.issues)")
        }
    }

    @Test func aCrashAfterRecordingLeavesAVerifiableLogAndASecondSweepFinishes() async throws {
        try await withTemporaryDirectory { dir in
            // As a sweep killed after its record was durable, before it deleted anything: every
            // deletion fails.
            let faults = FaultInjectingFileSystem()
            var log = try await tenDayLog(dir, fileSystem: faults)
            let segments = log.segments
            faults.inject(.init(operation: .remove, matching: ".seg", times: nil, fault: .fail(EIO)))
            await #expect(throws: AuditLogError.self) { _ = try await log.sweep(.days(7), actor: "ops", now: Self.end) }
            faults.clear()
            try await log.close()
            // Crash point 1: the record is durable, no file deleted yet.
            #expect(try await AuditLog.verify(directory: dir).isIntact)
            // Crash point 2: one of the files deleted, then the crash.
            try FileManager.default.removeItem(atPath: dir + "/segments/" + segments[0].fileName)
            #expect(try await AuditLog.verify(directory: dir).isIntact)
            log = try await AuditLog.open(directory: dir, options: testOptions())
            let report = try await log.sweep(.days(7), actor: "ops", now: Self.end)
            #expect(report.segments.map(\.fileName) == [segments[1].fileName, segments[2].fileName])
            #expect(report.recordSeq == nil)  // already recorded
            #expect(try await sweepCount(log) == 1)
            try await log.close()
            // The index file of the segment deleted before the crash went at the reopen.
            #expect(!FileManager.default.fileExists(atPath: dir + "/segments/" + LogDirectory.name(of: .index, forSegment: segments[0].fileName)))
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }

    @Test func aSegmentDeletedByHandIsAGapVerifyNames() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await tenDayLog(dir)
            let segments = log.segments
            _ = try await log.sweep(.days(7), actor: "ops", now: Self.end)
            try await log.close()
            try FileManager.default.removeItem(atPath: dir + "/segments/" + segments[5].fileName)
            let verify = try await AuditLog.verify(directory: dir)
            #expect(!verify.isIntact)
            #expect(verify.firstIssue?.kind == .missing)
            #expect(verify.firstIssue?.seq == segments[5].firstSeq)
            // A writer refuses the log, naming the gap; a reader still reads what is there.
            do throws(AuditLogError) {
                _ = try await AuditLog.open(directory: dir, options: testOptions())
                Issue.record("a writer opened a log with an unexplained gap")
            } catch {
                #expect(error.code == .corruption)
                #expect(error.location.seq == segments[5].firstSeq)
            }
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await readAll(reader).count > 0)
        }
    }

    @Test func sizeLimitSweepsOldestFirst() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await tenDayLog(dir)
            let segments = log.segments
            let total = segments.reduce(Int64(0)) { $0 + $1.bytes }
            let report = try await log.sweep(RetentionPolicy(maxTotalBytes: total - segments[0].bytes - 1), actor: "ops", now: Self.end)
            #expect(report.segments.map(\.fileName) == [segments[0].fileName, segments[1].fileName])
            try await log.close()
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }
}

@Suite struct RetentionServiceTests {
    @Test func theServiceSweepsOnItsIntervalUntilCancelled() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let old = Timestamp(nanosSinceEpoch: Timestamp.now.nanosSinceEpoch - 30 * RetentionTests.day)
            _ = try await log.append(events(10, from: old))
            _ = try await log.append(events(10, from: Timestamp(nanosSinceEpoch: old.nanosSinceEpoch + RetentionTests.day)))
            _ = try await log.append(events(10, from: .now))
            #expect(log.segments.count == 3)
            let service = RetentionService(log: log, policy: .days(7), interval: .milliseconds(20))
            let task = Task { try await service.run() }
            for _ in 0..<100 where log.segments.count > 1 { try await Task.sleep(for: .milliseconds(20)) }
            task.cancel()
            _ = await task.result
            #expect(log.segments.count == 1)
            try await log.close()
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }
}
