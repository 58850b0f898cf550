import Foundation
import Testing

@testable import AuditLog

/// The outside probe's fourth finding: docs/HTTP.md told auditors to pin `chain_head` and check
/// it with `verify`, which had no such option. `VerificationOptions.expectedHead` is it.
@Suite struct PinnedHeadTests {
    func verify(_ dir: String, _ pinned: PinnedHead, from: SequenceNumber? = nil) async throws -> VerificationReport {
        try await AuditLog.verify(directory: dir, options: VerificationOptions(fromSeq: from, expectedHead: pinned))
    }

    @Test func aPinnedHeadMatchesAsTheLogGrowsAndFailsWhenRewrittenOrCut() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await RetentionTests().tenDayLog(dir)
            let head = log.head
            let pinned = PinnedHead(seq: try #require(head.lastSeq), chainValue: head.chainHead)
            let middle = try #require(try await log.location(of: SequenceNumber(100)))
            _ = try await log.append(events(50, from: RetentionTests.end))
            try await log.close()

            let ok = try await verify(dir, pinned)
            #expect(ok.isIntact && ok.pinnedHead?.status == .matches, "\(ok.issues)")
            // From a later segment on, the pinned seq's segment is still checked.
            let later = try await verify(dir, PinnedHead(seq: SequenceNumber(100), chainValue: middle.chainValue), from: SequenceNumber(700))
            #expect(later.isIntact && later.pinnedHead?.status == .matches, "\(later.issues)")

            let wrong = try await verify(dir, PinnedHead(seq: pinned.seq, chainValue: ChainHash.genesis(logID: log.logID)))
            #expect(wrong.pinnedHead?.status == .differs && wrong.issues.map(\.kind) == [.chain])
            #expect(wrong.firstIssue?.seq == pinned.seq)

            let beyond = try await verify(dir, PinnedHead(seq: SequenceNumber(5000), chainValue: head.chainHead))
            #expect(beyond.pinnedHead?.status == .missing && beyond.issues.map(\.kind) == [.missing])
            #expect(PinnedHead("12:" + String(repeating: "ab", count: 32)) != nil)
            #expect(PinnedHead("12:abc") == nil && PinnedHead("0:" + String(repeating: "ab", count: 32)) == nil && PinnedHead("x") == nil)
        }
    }

    @Test func aPinnedSeqARecordedSweepRemovedStillPasses() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await RetentionTests().tenDayLog(dir)
            // Days 1–3 go in one sweep: one range, ending with day 3.
            let endOfDay3 = try #require(log.segments[2].lastSeq)
            let pinnedEnd = PinnedHead(seq: endOfDay3, chainValue: log.segments[2].chainAfter)
            let inside = try #require(try await log.location(of: SequenceNumber(10)))
            _ = try await log.sweep(.days(7), actor: "ops", now: RetentionTests.end)
            try await log.close()
            let atEnd = try await verify(dir, pinnedEnd)
            #expect(atEnd.isIntact && atEnd.pinnedHead?.status == .swept, "\(atEnd.issues)")
            let wrongEnd = try await verify(dir, PinnedHead(seq: endOfDay3, chainValue: inside.chainValue))
            #expect(wrongEnd.pinnedHead?.status == .differs && !wrongEnd.isIntact)
            let within = try await verify(dir, PinnedHead(seq: SequenceNumber(10), chainValue: inside.chainValue))
            #expect(within.isIntact && within.pinnedHead?.status == .swept)
            // Deleted by hand (no record): missing.
            try FileManager.default.removeItem(atPath: try segmentPaths(dir)[0])
            let gone = try await verify(dir, PinnedHead(seq: SequenceNumber(250), chainValue: inside.chainValue))
            #expect(gone.pinnedHead?.status == .missing)
        }
    }
}
