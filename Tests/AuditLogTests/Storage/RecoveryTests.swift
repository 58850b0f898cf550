import Foundation
import Testing

@testable import AuditLog

@Suite struct RecoveryTests {
    /// Builds a log whose active segment ends with a one-event frame; returns the segment
    /// path and the offset where that last frame starts. Like a writer that crashed instead of
    /// closing, it leaves no active index checkpoint (which would say the last frame was
    /// committed, and forbid cutting it).
    func logWithSmallLastFrame(_ dir: String) async throws -> (segment: String, lastFrameStart: Int, size: Int) {
        let log = try await AuditLog.open(directory: dir, options: testOptions())
        _ = try await log.append(events(20, prefix: "a"))
        _ = try await log.append(events(20, from: Timestamp(rfc3339: "2026-03-20T01:00:00Z")!, prefix: "b"))
        let segment = try #require(try segmentPaths(dir).last)
        let lastFrameStart = try fileSize(segment)
        _ = try await log.append([fullEvent(at: Timestamp(rfc3339: "2026-03-20T02:00:00Z")!)])
        try await log.close()
        try FileManager.default.removeItem(atPath: String(segment.dropLast(4)) + ".aidx")
        return (segment, lastFrameStart, try fileSize(segment))
    }

    @Test func aTornTailCutAtEveryByteOfTheLastFrameRecoversExactlyTheCompleteFrames() async throws {
        try await withTemporaryDirectory { dir in
            let original = dir + "/original"
            let (segment, lastFrameStart, size) = try await logWithSmallLastFrame(original)
            let fm = FileManager.default
            for cut in (lastFrameStart + 1)..<size {
                let copy = dir + "/cut-\(cut)"
                try fm.copyItem(atPath: original, toPath: copy)
                let copiedSegment = copy + "/segments/" + URL(fileURLWithPath: segment).lastPathComponent
                try truncateFile(copiedSegment, to: cut)
                let log = try await AuditLog.open(directory: copy, options: testOptions())
                #expect(log.recovery.count == 1, "cut at \(cut)")
                #expect(log.recovery.first?.offset == Int64(lastFrameStart), "cut at \(cut)")
                #expect(log.recovery.first?.bytesRemoved == Int64(cut - lastFrameStart))
                #expect(log.recovery.first?.firstSeq == SequenceNumber(41))
                // The cut bytes are kept beside the segment, and the chain says so at seq 41.
                let kept = copiedSegment + ".cut-\(lastFrameStart)"
                #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == (try Data(contentsOf: URL(fileURLWithPath: segment))).subdata(in: lastFrameStart..<cut))
                #expect(log.head.lastSeq == SequenceNumber(41), "cut at \(cut)")
                let recorded = try #require(try await log.record(at: SequenceNumber(41)))
                #expect(recorded.event.eventType == "log.recovered")
                #expect(recorded.event.details?["first_seq"] == .number("41"))
                #expect(recorded.event.details?["bytes"] == .number(String(cut - lastFrameStart)))
                #expect(recorded.event.details?["file"] == .string("segments/" + URL(fileURLWithPath: kept).lastPathComponent))
                // The log takes appends again and verifies, naming the recovery.
                let receipt = try await log.append([fullEvent(id: "again")])
                #expect(receipt.firstSeq == SequenceNumber(42))
                try await log.close()
                let report = try await AuditLog.verify(directory: copy)
                #expect(report.isIntact, "cut at \(cut): \(report.issues)")
                #expect(report.recoveries.map(\.seq) == [SequenceNumber(41)] && report.recoveries.first?.kept == .intact)
                #expect(!report.isPristine)
                try fm.removeItem(atPath: copy)
            }
        }
    }

    @Test func zeroFilledTailIsTorn() async throws {
        try await withTemporaryDirectory { dir in
            let (segment, _, size) = try await logWithSmallLastFrame(dir)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(count: 4096))
            try handle.close()
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(log.recovery.first?.offset == Int64(size))
            #expect(log.head.lastSeq == SequenceNumber(42))  // and the log.recovered record
            try await log.close()
        }
    }

    @Test func damageBeforeTheLastFrameIsAnErrorNamingFileOffsetAndSeq() async throws {
        try await withTemporaryDirectory { dir in
            let (segment, lastFrameStart, _) = try await logWithSmallLastFrame(dir)
            let before = try Data(contentsOf: URL(fileURLWithPath: segment))
            try flipByte(segment, at: 200)  // inside the first frame
            do throws(AuditLogError) {
                _ = try await AuditLog.open(directory: dir, options: testOptions())
                Issue.record("opened a damaged log")
            } catch {
                #expect(error.code == .corruption)
                #expect(error.location.file == "segments/00000000000000000001.seg")
                #expect(error.location.offset != nil)
                #expect(error.location.seq == SequenceNumber(1))
            }
            // Nothing was cut.
            #expect(try fileSize(segment) == before.count)
            _ = lastFrameStart
        }
    }

    @Test func anUnfinishedNewSegmentFileIsRemoved() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            _ = try await log.append(events(5))
            try await log.close()
            let stray = dir + "/segments/00000000000000000006.seg"
            _ = FileManager.default.createFile(atPath: stray, contents: Data([0x41, 0x55]))
            let reopened = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(reopened.recovery.first?.reason.contains("header never completed") == true)
            #expect(!FileManager.default.fileExists(atPath: stray))
            try await reopened.close()
        }
    }

    /// Found by the crash test: a writer killed right after starting a segment leaves an empty
    /// one; the next event of a later partition must replace it, not collide with its name.
    @Test func anEmptySegmentLeftByACrashAfterARollIsReplaced() async throws {
        try await withTemporaryDirectory { dir in
            var options = testOptions()
            options.partition = .hour
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(10, prefix: "evt_a"))
            try await log.close()
            let reopened = try await AuditLog.open(directory: dir, options: options)
            _ = try await reopened.append(events(5, from: Timestamp(rfc3339: "2026-03-20T01:00:00Z")!, prefix: "evt_b"))
            try await reopened.close()
            let writer = try await AuditLog.open(directory: dir, options: options)
            _ = try await writer.append(events(1, from: Timestamp(rfc3339: "2026-03-20T02:00:00Z")!, prefix: "evt_c"))
            try await writer.close()
            // Now cut the hour-2 segment back to its header: a roll that crashed before its first frame.
            let last = try segmentPaths(dir).last!
            try truncateFile(last, to: SegmentHeader.byteCount)
            let again = try await AuditLog.open(directory: dir, options: options)
            #expect(again.segments.last?.recordCount == 0)
            _ = try await again.append(events(3, from: Timestamp(rfc3339: "2026-03-20T03:00:00Z")!, prefix: "evt_d"))
            try await again.close()
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact && report.recordsChecked == 18, "\(report)")
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await readAll(reader).map(\.event.id).suffix(3) == ["evt_d0", "evt_d1", "evt_d2"])
        }
    }
}
