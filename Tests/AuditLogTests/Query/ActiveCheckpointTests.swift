import Foundation
import Testing
@testable import AuditLog

/// The writer leaves a checkpoint of the active segment's index when it closes; the next open
/// indexes only what was appended since, and a checkpoint that does not describe the segment's
/// records is ignored, never trusted.
@Suite(.serialized) struct ActiveCheckpointTests {
    static let options = testOptions()

    func checkpoints(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/segments").filter { $0.hasSuffix(".aidx") }.sorted()
    }

    /// 3,000 events, one a second: one active segment (day partitions).
    func makeClosedLog(_ dir: String, count: Int = 3000) async throws {
        let log = try await AuditLog.open(directory: dir, options: Self.options)
        var i = 0
        let all = events(count, prefix: "evt_c")
        while i < all.count {
            _ = try await log.append(Array(all[i..<min(i + 250, all.count)]))
            i += 250
        }
        try await log.close()
    }

    /// Query answers and the number of active-segment records a new reader had to decode.
    func readerAnswers(_ dir: String) async throws -> (answers: [[SequenceNumber]], scanned: Int) {
        let reader = try await AuditLog.open(directory: dir, options: .readOnly)
        var answers: [[SequenceNumber]] = []
        let queries = [
            Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50),
            Query(filter: EventFilter(users: ["user3@acme.com"]), order: .oldestFirst),
            Query(filter: EventFilter(verdicts: [.redact], models: ["gpt-4o"]), order: .oldestFirst),
        ]
        for q in queries {
            var seqs: [SequenceNumber] = []
            for try await r in reader.query(q) { seqs.append(r.seq) }
            answers.append(seqs)
        }
        let all = try await readAll(reader)
        let target = all[all.count / 3]
        #expect(try await reader.event(id: target.event.id ?? "") == target)
        let expected = [
            Array(all.filter { $0.event.verdict == .block }.map(\.seq).reversed().prefix(50)),
            all.filter { $0.event.user == "user3@acme.com" }.map(\.seq),
            all.filter { $0.event.model == "gpt-4o" && $0.event.verdict == .redact }.map(\.seq),
        ]
        #expect(answers == expected)
        return (answers, reader.indexes.activeRecordsScanned)
    }

    @Test func closingLeavesACheckpointThatTheNextOpenUses() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            #expect(try checkpoints(dir) == ["00000000000000000001.aidx"])
            let (answers, scanned) = try await readerAnswers(dir)
            #expect(scanned == 0)
            // Without it, the same answers by decoding all 3,000 records.
            try FileManager.default.removeItem(atPath: dir + "/segments/00000000000000000001.aidx")
            let (again, scannedAgain) = try await readerAnswers(dir)
            #expect(again == answers)
            #expect(scannedAgain == 3000)
        }
    }

    @Test func appendsAfterReopeningAreIndexedOnTopOfTheCheckpoint() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let writer = try await AuditLog.open(directory: dir, options: Self.options)
            let more = events(400, from: Timestamp(rfc3339: "2026-03-20T01:00:00Z")!, prefix: "evt_more")
            _ = try await writer.append(more)
            // A reader while the writer holds the log: checkpoint plus the 400 new records.
            let (_, scanned) = try await readerAnswers(dir)
            #expect(scanned == 400)
            try await writer.close()
            #expect(try await readerAnswers(dir).scanned == 0)
        }
    }

    @Test(arguments: ["damaged", "truncated", "another log's", "torn tail cut"])
    func aCheckpointThatDoesNotDescribeTheSegmentIsIgnored(damage: String) async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let checkpoint = dir + "/segments/00000000000000000001.aidx"
            let segment = dir + "/segments/00000000000000000001.seg"
            var expectedScanned = 3000
            switch damage {
            case "damaged": try flipByte(checkpoint, at: try fileSize(checkpoint) / 2)
            case "truncated": try truncateFile(checkpoint, to: try fileSize(checkpoint) - 10)
            case "another log's":
                // Same first seq and size, other records: its chain value cannot match.
                try await withTemporaryDirectory { other in
                    let log = try await AuditLog.open(directory: other, options: Self.options)
                    _ = try await log.append(events(3000, prefix: "evt_other"))
                    try await log.close()
                    try FileManager.default.removeItem(atPath: checkpoint)
                    try FileManager.default.copyItem(atPath: other + "/segments/00000000000000000001.aidx", toPath: checkpoint)
                }
            default:
                // A torn final frame (a reader sees the log end before it; a writer would cut
                // it): the checkpoint reaches past the segment's end.
                try truncateFile(segment, to: try fileSize(segment) - 100)
                expectedScanned = 2750
            }
            let (_, scanned) = try await readerAnswers(dir)
            #expect(scanned == expectedScanned)
        }
    }

    @Test func sealingASegmentRemovesItsCheckpoint() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let writer = try await AuditLog.open(directory: dir, options: Self.options)
            // The next day's events seal the first segment and start another.
            _ = try await writer.append(events(100, from: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!, prefix: "evt_next"))
            try await writer.close()
            #expect(try checkpoints(dir) == ["00000000000000003001.aidx"])
            #expect(try await readerAnswers(dir).scanned == 0)
        }
    }
}
