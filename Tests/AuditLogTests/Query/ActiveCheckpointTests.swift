import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

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

    /// Bytes of frames of the active segment a new reader had to read to open the log and
    /// index it (a usage report needs every record's columns): nothing beyond a header and a
    /// frame header or two when a checkpoint vouches for them.
    func indexingReads(_ dir: String) async throws -> Int64 {
        let counting = CountingFileSystem()
        let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: counting)
        _ = try await reader.usage()
        return counting.segmentBytesRead
    }

    /// Frame bytes of the records from `first` on (1-based ordinal) in the active segment.
    func frameBytes(_ dir: String, from first: UInt64) throws -> Int64 {
        try frameHeaders(dir, "00000000000000000001.seg").filter { $0.header.lastSeq.rawValue >= first }.reduce(0) { $0 + Int64($1.header.frameLengthBytes) }
    }

    /// Query answers and how much of the active segment a new reader read to index it.
    func readerAnswers(_ dir: String) async throws -> (answers: [[SequenceNumber]], read: Int64) {
        let read = try await indexingReads(dir)
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
        return (answers, read)
    }

    @Test func closingLeavesACheckpointThatTheNextOpenUses() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            #expect(try checkpoints(dir) == ["00000000000000000001.aidx"])
            let (answers, read) = try await readerAnswers(dir)
            #expect(read < 1024)
            // Without it, the same answers by reading (and decoding) all 3,000 records.
            try FileManager.default.removeItem(atPath: dir + "/segments/00000000000000000001.aidx")
            let (again, readAgain) = try await readerAnswers(dir)
            #expect(again == answers)
            #expect(readAgain >= 2 * (try frameBytes(dir, from: 1)))  // the catalog's check, then the index's decode
        }
    }

    /// The open checks the checkpoint's last frame in the segment; the first query takes the
    /// frame directory the open read and reads nothing of the segment again (a usage report of
    /// the active segment needs only the checkpoint's columns).
    @Test func theFirstQueryTakesTheCheckpointTheOpenConfirmed() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let counting = CountingFileSystem()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: counting)
            let (opened, read) = (counting.segmentsOpened, counting.segmentBytesRead)
            #expect(opened.allSatisfy { $0 == "00000000000000000001.seg" } && read > 0 && read < 1024, "\(opened), \(read) bytes")
            #expect(try await reader.usage(groupBy: [.user]).totals.requests == 3000)
            #expect(counting.segmentsOpened == opened && counting.segmentBytesRead == read)
            try await reader.close()
        }
    }

    /// A reader of a closed log reads only the parts of the checkpoint its queries need; once a
    /// writer appends, the same reader indexes the new records on top of the whole checkpoint.
    @Test func aReaderLoadsCheckpointPartsLazilyUntilTheSegmentGrows() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let blocked = Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 50)
            let before = try await reader.page(blocked).records.map(\.seq)
            #expect(before.count == 50 && before.first == SequenceNumber(2998))  // every 4th event is blocked
            #expect(try await reader.event(id: "evt_c17")?.seq == SequenceNumber(18))
            #expect(try await reader.usage(groupBy: [.user]).totals.requests == 3000)
            let writer = try await AuditLog.open(directory: dir, options: Self.options)
            _ = try await writer.append(events(40, from: Timestamp(rfc3339: "2026-03-20T02:00:00Z")!, prefix: "evt_late"))
            try await writer.close()
            try await reader.refresh()
            #expect(try await reader.page(blocked).records.first?.event.id == "evt_late37")
            #expect(try await reader.event(id: "evt_late5") != nil)
            #expect(try await reader.usage(groupBy: [.user]).totals.requests == 3040)
            try await reader.close()
        }
    }

    @Test func appendsAfterReopeningAreIndexedOnTopOfTheCheckpoint() async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let writer = try await AuditLog.open(directory: dir, options: Self.options)
            let more = events(400, from: Timestamp(rfc3339: "2026-03-20T01:00:00Z")!, prefix: "evt_more")
            _ = try await writer.append(more)
            // A reader while the writer holds the log: checkpoint plus the 400 new records.
            let (_, read) = try await readerAnswers(dir)
            let newFrames = try frameBytes(dir, from: 3001)
            #expect(read >= 2 * newFrames && read < 2 * newFrames + 2048, "read \(read), new frames \(newFrames)")
            try await writer.close()
            #expect(try await readerAnswers(dir).read < 1024)
        }
    }

    @Test(arguments: ["damaged", "truncated", "another log's", "torn tail cut"])
    func aCheckpointThatDoesNotDescribeTheSegmentIsIgnored(damage: String) async throws {
        try await withTemporaryDirectory { dir in
            try await makeClosedLog(dir)
            let checkpoint = dir + "/segments/00000000000000000001.aidx"
            let segment = dir + "/segments/00000000000000000001.seg"
            var ignored = true
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
                ignored = true
            }
            let (_, read) = try await readerAnswers(dir)
            // Ignored: every complete frame read (and checked) to index the segment.
            let frames = try frameBytes(dir, from: 1)
            #expect(ignored && read >= frames)
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
            let counting = CountingFileSystem()
            let reader = try await AuditLog.open(directory: dir, options: .readOnly, fileSystem: counting)
            _ = try await reader.usage(window: TimeWindow(since: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!))
            #expect(counting.segmentBytesRead < 1024)
        }
    }
}
