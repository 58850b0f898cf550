import Foundation
import Testing

@testable import AuditLog

/// The outside probe's third finding: a flipped bit in the last frame (or junk after it) was
/// taken for a torn write, and the next writer silently cut acknowledged records and reused
/// their seqs. A complete final frame with a bad checksum is damage now; a real torn write is
/// cut, kept and recorded in the chain.
@Suite struct TailDamageTests {
    /// 41 records, the last in a small frame of its own; closed cleanly (so the active index
    /// checkpoint covers every frame) unless `crashed`.
    func makeLog(_ dir: String, crashed: Bool = true) async throws -> (segment: String, lastFrameStart: Int, size: Int) {
        let log = try await AuditLog.open(directory: dir, options: testOptions())
        _ = try await log.append(events(40, prefix: "a"))
        let segment = try #require(try segmentPaths(dir).last)
        let lastFrameStart = try fileSize(segment)
        _ = try await log.append([fullEvent(at: Timestamp(rfc3339: "2026-03-20T02:00:00Z")!)])
        try await log.close()
        if crashed { try FileManager.default.removeItem(atPath: String(segment.dropLast(4)) + ".aidx") }
        return (segment, lastFrameStart, try fileSize(segment))
    }

    func expectRefused(_ dir: String, offset: Int, seq: UInt64, _ comment: Comment) async throws {
        do throws(AuditLogError) {
            _ = try await AuditLog.open(directory: dir, options: testOptions())
            Issue.record("a writer opened: \(comment)")
        } catch {
            #expect(error.code == .corruption, comment)
            #expect(error.location.file == "segments/00000000000000000001.seg", comment)
            #expect(error.location.offset.map { $0 >= Int64(offset) } == true, comment)
            #expect(error.location.seq == SequenceNumber(seq), comment)
        }
    }

    @Test func aFlippedBitAnywhereInTheLastFrameIsDamageNotATornWrite() async throws {
        try await withTemporaryDirectory { dir in
            let original = dir + "/original"
            let (segment, lastFrameStart, size) = try await makeLog(original)
            let name = URL(fileURLWithPath: segment).lastPathComponent
            for offset in lastFrameStart..<size {
                let copy = dir + "/flip-\(offset)"
                try FileManager.default.copyItem(atPath: original, toPath: copy)
                try flipByte(copy + "/segments/" + name, at: offset)
                try await expectRefused(copy, offset: lastFrameStart, seq: 41, "flip at \(offset)")
                #expect(try fileSize(copy + "/segments/" + name) == size, "nothing was cut (flip at \(offset))")
                let report = try await AuditLog.verify(directory: copy)
                #expect(!report.isIntact && report.tail == nil, "flip at \(offset)")
                #expect(report.firstIssue?.seq == SequenceNumber(41), "flip at \(offset)")
                // A reader opens and reads everything before the damaged segment's records fail.
                let reader = try await AuditLog.open(directory: copy, options: .readOnly)
                #expect(reader.segments.last?.damage != nil)
                try FileManager.default.removeItem(atPath: copy)
            }
        }
    }

    @Test(arguments: ["junk", "a frame of junk"])
    func junkAfterTheLastFrameIsDamage(_ kind: String) async throws {
        try await withTemporaryDirectory { dir in
            let (segment, _, size) = try await makeLog(dir)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
            try handle.seekToEnd()
            var junk = Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) })
            if kind == "a frame of junk" { junk.replaceSubrange(0..<4, with: Data("AFRM".utf8)) }
            try handle.write(contentsOf: junk)
            try handle.close()
            try await expectRefused(dir, offset: size, seq: 42, "\(kind)")
            #expect(try fileSize(segment) == size + 300)
            #expect(!(try await AuditLog.verify(directory: dir)).isIntact)
        }
    }

    @Test func aTornTailIsCutKeptAndRecorded() async throws {
        try await withTemporaryDirectory { dir in
            let (segment, lastFrameStart, size) = try await makeLog(dir)
            let original = try Data(contentsOf: URL(fileURLWithPath: segment))
            try truncateFile(segment, to: size - 10)
            // Before any writer: verify sees a torn tail, not an issue (unless strict).
            let before = try await AuditLog.verify(directory: dir)
            #expect(before.isIntact && !before.isPristine)
            #expect(before.tail?.offset == Int64(lastFrameStart))
            #expect(before.tail?.reason.contains("runs past the end") == true)

            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let report = try #require(log.recovery.first)
            #expect(report.firstSeq == SequenceNumber(41) && report.lastSeq == SequenceNumber(41))
            #expect(report.keptFile == "segments/00000000000000000001.seg.cut-\(lastFrameStart)")
            let kept = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + (report.keptFile ?? "")))
            #expect(kept == original.subdata(in: lastFrameStart..<(size - 10)))
            let record = try #require(try await log.record(at: SequenceNumber(41)))
            #expect(record.event.eventType == "log.recovered")
            #expect(record.event.details?["last_seq"] == .number("41"))
            #expect(record.event.details?["sha256"]?.stringValue == report.sha256)
            try await log.close()

            let after = try await AuditLog.verify(directory: dir)
            #expect(after.isIntact && after.tail == nil)
            #expect(after.recoveries.count == 1 && after.recoveries.first?.kept == .intact)
            // Altered evidence is an issue; moved-away evidence is only reported.
            try flipByte(dir + "/" + (report.keptFile ?? ""), at: 3)
            let altered = try await AuditLog.verify(directory: dir)
            #expect(altered.issues.map(\.kind) == [.recovery])
            try FileManager.default.removeItem(atPath: dir + "/" + (report.keptFile ?? ""))
            let missing = try await AuditLog.verify(directory: dir)
            #expect(missing.isIntact && missing.recoveries.first?.kept == .missing)
        }
    }

    /// A power cut can keep later sectors of an unsynced write and not an earlier one (found by
    /// the power-cut test): a whole sector of zeros with bytes after it is a torn write, cut,
    /// kept and recorded like any other; the synced records before it stay. So is the rest of
    /// the sector the last synced write ended in (`wholeSectors` 0: the disk still holds that
    /// sector as synced, zeros after the old end; found by the power-cut test too).
    @Test(arguments: [1, 0])
    func aWriteWhoseEarlierSectorNeverReachedTheDiskIsATornTail(wholeSectors: Int) async throws {
        try await withTemporaryDirectory { dir in
            let (segment, _, size) = try await makeLog(dir)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment))
            try handle.seekToEnd()
            try #require(size % 512 != 0, "the log must end inside a sector")
            let hole = (size + 511) / 512 * 512 + 512 * wholeSectors - size  // to the next boundary, then whole sectors
            try handle.write(contentsOf: Data(repeating: 0, count: hole) + Data((0..<700).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }))
            try handle.close()
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            let report = try #require(log.recovery.first)
            #expect(report.keptFile == "segments/00000000000000000001.seg.cut-\(size)")
            #expect(report.reason.contains("never reached the disk"), "\(report.reason)")
            #expect(try await log.record(at: SequenceNumber(41))?.event.id != nil)
            #expect(try await log.record(at: SequenceNumber(42))?.event.eventType == "log.recovered")
            try await log.close()
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }

    @Test func aCrashBetweenCuttingAndRecordingIsRecordedAtTheNextOpen() async throws {
        try await withTemporaryDirectory { dir in
            let (segment, lastFrameStart, size) = try await makeLog(dir)
            // As a writer killed after keeping and truncating, before its record reached the disk.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: segment)).subdata(in: lastFrameStart..<size)
            try bytes.write(to: URL(fileURLWithPath: segment + ".cut-\(lastFrameStart)"))
            try truncateFile(segment, to: lastFrameStart)
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(log.recovery.isEmpty)
            let record = try #require(try await log.record(at: SequenceNumber(41)))
            #expect(record.event.eventType == "log.recovered")
            #expect(record.event.details?["first_seq"] == .number("41"))
            #expect(record.event.details?["bytes"] == .number(String(size - lastFrameStart)))
            try await log.close()
            // Recorded once: the next open adds nothing.
            let again = try await AuditLog.open(directory: dir, options: testOptions())
            #expect(again.head.lastSeq == SequenceNumber(41))
            try await again.close()
        }
    }

    @Test func aCheckpointProvingTheRecordsCommittedForbidsTheCut() async throws {
        try await withTemporaryDirectory { dir in
            let (segment, lastFrameStart, size) = try await makeLog(dir, crashed: false)
            try truncateFile(segment, to: size - 10)
            try await expectRefused(dir, offset: lastFrameStart, seq: 41, "committed frame cut short")
            #expect(try fileSize(segment) == size - 10)
            #expect(try segmentPaths(dir).count == 1)
        }
    }
}
