import Foundation
import Testing

@testable import AuditLog

@Suite struct VerificationTests {
    /// Three day-partitions: two sealed segments and an active one.
    func threeSegmentLog(_ dir: String) async throws {
        let log = try await AuditLog.open(directory: dir, options: testOptions())
        for day in 0..<3 {
            let start = Timestamp(nanosSinceEpoch: Timestamp(rfc3339: "2026-03-20T00:00:00Z")!.nanosSinceEpoch + Int64(day) * 86_400_000_000_000)
            for _ in 0..<3 { _ = try await log.append(events(4, from: start, stepSeconds: 60)) }
        }
        try await log.close()
    }

    /// (offset, first seq) of every frame of a segment.
    func frames(_ dir: String, _ fileName: String) throws -> [(offset: Int64, header: FrameHeader)] {
        try frameHeaders(dir, fileName)
    }

    @Test func anIntactLogVerifies() async throws {
        try await withTemporaryDirectory { dir in
            try await threeSegmentLog(dir)
            let report = try await AuditLog.verify(directory: dir)
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.segmentsChecked == 3)
            #expect(report.recordsChecked == 36)
            #expect(report.firstSeq == SequenceNumber(1) && report.lastSeq == SequenceNumber(36))
            let deep = try await AuditLog.verify(directory: dir, options: VerificationOptions(deep: true))
            #expect(deep.isIntact)
        }
    }

    /// Flipping any byte of a sealed segment fails verification, and a flip inside a frame is
    /// reported at that frame's first seq.
    @Test func flippingAnyByteOfASealedSegmentIsReportedAtTheRightSeq() async throws {
        try await withTemporaryDirectory { dir in
            try await threeSegmentLog(dir)
            let name = "00000000000000000013.seg"  // the second, sealed segment
            let path = dir + "/segments/" + name
            let layout = try frames(dir, name)
            let size = try fileSize(path)
            let pristine = try Data(contentsOf: URL(fileURLWithPath: path))
            for offset in 0..<size {
                try flipByte(path, at: offset)
                let report = try await AuditLog.verify(directory: dir)
                #expect(!report.isIntact, "flip at \(offset) not detected")
                if let frame = layout.last(where: { $0.offset <= Int64(offset) }),
                    Int64(offset) < frame.offset + Int64(frame.header.frameLengthBytes)
                {
                    #expect(report.firstIssue?.seq == frame.header.firstSeq, "flip at \(offset): \(report.issues)")
                    #expect(report.firstIssue?.file == "segments/" + name)
                }
                try pristine.write(to: URL(fileURLWithPath: path))
            }
            #expect(try await AuditLog.verify(directory: dir).isIntact)
        }
    }

    @Test func aRewrittenFrameWithARecomputedChecksumBreaksTheChain() async throws {
        try await withTemporaryDirectory { dir in
            try await threeSegmentLog(dir)
            // Rewrite the last frame of the active segment with one record changed and a valid
            // checksum: what a tamperer who knows the format would do.
            let name = "00000000000000000025.seg"
            let path = dir + "/segments/" + name
            let (offset, header) = try #require(try frames(dir, name).last)
            var records = try frameRecords(dir, name, at: offset, header)
            records[0].event.tokensIn = 9_999
            var builder = FrameBuilder()
            for r in records {
                r.event.recordBytes().withUnsafeBytes { builder.append(record: $0, seq: r.seq, timestampNanos: r.event.timestamp.nanosSinceEpoch) }
            }
            var frame: [UInt8] = []
            _ = builder.finish(chainAfter: header.chainAfter, into: &frame)
            var data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            data.replaceSubrange(Int(offset)..<data.count, with: frame)
            try Data(data).write(to: URL(fileURLWithPath: path))

            let report = try await AuditLog.verify(directory: dir)
            #expect(!report.isIntact)
            #expect(report.firstIssue?.kind == .chain)
            #expect(report.firstIssue?.seq == header.firstSeq)
            #expect(report.firstIssue?.file == "segments/" + name)
        }
    }

    @Test func aMissingSegmentIsAGap() async throws {
        try await withTemporaryDirectory { dir in
            try await threeSegmentLog(dir)
            try FileManager.default.removeItem(atPath: dir + "/segments/00000000000000000013.seg")
            let report = try await AuditLog.verify(directory: dir)
            #expect(!report.isIntact)
            #expect(report.firstIssue?.kind == .missing)
            #expect(report.firstIssue?.seq == SequenceNumber(13))
        }
    }

    @Test func verificationCanStartAtAnySegment() async throws {
        try await withTemporaryDirectory { dir in
            try await threeSegmentLog(dir)
            let report = try await AuditLog.verify(directory: dir, options: VerificationOptions(fromSeq: SequenceNumber(20)))
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.segmentsChecked == 2)
            #expect(report.firstSeq == SequenceNumber(13))
            // Damage before the start is not looked at.
            try flipByte(dir + "/segments/00000000000000000001.seg", at: 300)
            #expect(try await AuditLog.verify(directory: dir, options: VerificationOptions(fromSeq: SequenceNumber(13))).isIntact)
            #expect(try await AuditLog.verify(directory: dir).isIntact == false)
        }
    }

    @Test func progressIsReported() async throws {
        try await withTemporaryDirectory { dir in
            try await threeSegmentLog(dir)
            let seen = ProgressLog()
            _ = try await AuditLog.verify(directory: dir, options: VerificationOptions()) { seen.add($0) }
            let last = try #require(seen.all.max { $0.segmentsDone < $1.segmentsDone })
            #expect(last.segmentsDone == 3 && last.segmentsTotal == 3)
            #expect(seen.all.map(\.bytesDone).max() == last.bytesTotal)
        }
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [VerificationProgress] = []
    func add(_ p: VerificationProgress) { lock.lock(); items.append(p); lock.unlock() }
    var all: [VerificationProgress] { lock.lock(); defer { lock.unlock() }; return items }
}
