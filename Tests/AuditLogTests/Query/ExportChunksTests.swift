import Foundation
import Testing

@testable import AuditLog

/// The parallel export (`auditlog export`): runs of segments transcoded at once, written in
/// order, must give exactly the bytes of the one-at-a-time encoder.
@Suite struct ExportChunksTests {
    /// The bytes ``ExportEncoder`` writes for `query`, one event at a time.
    private func sequential(_ log: AuditLog, _ query: Query, _ format: ExportFormat) throws -> (bytes: [UInt8], events: Int) {
        let iterator = try log.queryIterator(query)
        var encoder = ExportEncoder(format: format)
        var bytes: [UInt8] = []
        while try encoder.encodeNext(from: iterator, into: &bytes) {}
        return (bytes, encoder.count)
    }

    private func chunked(_ chunks: ExportChunks) async throws -> (bytes: [UInt8], events: Int, chunks: Int) {
        var bytes: [UInt8] = []
        var events = 0
        var count = 0
        for try await chunk in chunks {
            bytes += chunk.bytes
            events += chunk.events
            count += 1
        }
        return (bytes, events, count)
    }

    /// An export's runs are queries of their own, but share one cache budget: together they
    /// place at most what one query may (a quarter of the cache), as the same read as one
    /// query does.
    @Test func anExportsRunsPlaceAtMostAQuarterOfTheCache() async throws {
        try await withTemporaryDirectory { dir in
            try await writeGeneratedLog(dir, seed: 8, count: 6_000, days: 1, segmentBytes: 256 << 10)
            var options = AuditLogOptions.readOnly
            options.frameCacheBytes = 2 << 20
            let log = try await AuditLog.open(directory: dir, options: options)
            let export = try await chunked(log.exportChunks(Query(order: .oldestFirst), format: .csv, parallelism: 2))
            #expect(export.events == 6_000 && export.chunks > 1, "\(export.chunks) chunks")
            let placed = log.frames.bytes
            #expect(placed > 0 && placed <= log.frames.capacity / 4, "\(placed)")
            // The same read as one query places no more.
            let other = try await AuditLog.open(directory: dir, options: options)
            var n = 0
            for try await _ in other.query(Query(order: .oldestFirst)) { n += 1 }
            #expect(n == 6_000)
            #expect(other.frames.bytes > 0 && other.frames.bytes <= other.frames.capacity / 4)
            try await log.close()
            try await other.close()
        }
    }

    @Test func chunksConcatenateToTheSequentialExportInEveryFormat() async throws {
        try await withTemporaryDirectory { dir in
            try await writeGeneratedLog(dir, seed: 7, count: 3_000, days: 2, segmentBytes: 48 << 10)
            let log = try await AuditLog.open(directory: dir, options: .readOnly)
            let segments = log.snapshot.segments
            #expect(segments.count >= 4)
            let end = Timestamp(rfc3339: "2026-03-21T00:00:00Z")!.nanosSinceEpoch
            let hour: Int64 = 3_600_000_000_000
            let queries = [
                Query(order: .oldestFirst),
                Query(
                    window: TimeWindow(since: Timestamp(nanosSinceEpoch: end - 30 * hour), until: Timestamp(nanosSinceEpoch: end - 5 * hour)), filter: EventFilter(verdicts: [.block, .redact]),
                    order: .oldestFirst),
                Query(filter: EventFilter(users: ["nobody@example.com"]), order: .oldestFirst),  // no match
                Query(order: .newestFirst),
                Query(order: .oldestFirst, limit: 100),
            ]
            for format in ExportFormat.allCases {
                for query in queries {
                    let expected = try sequential(log, query, format)
                    // Runs of 37 records cut every segment, and runs end inside frames.
                    let small = ExportChunks(context: log.context, segments: segments, query: query, format: format, parallelism: 2, runRecords: 37)
                    if query.limit == nil {
                        #expect(small.runs.count > segments.count)
                    } else {
                        #expect(small.runs.count == 1)
                    }
                    let got = try await chunked(small)
                    let same = got.bytes == expected.bytes  // (not inside #expect: it would print every byte)
                    #expect(same, "\(format) \(query)")
                    #expect(got.events == expected.events)
                    let whole = try await chunked(log.exportChunks(query, format: format))
                    let wholeSame = whole.bytes == expected.bytes
                    #expect(wholeSame, "\(format) \(query)")
                }
            }
            // Something was exported, in order.
            let ndjson = try await chunked(log.exportChunks(Query(order: .oldestFirst), format: .ndjson))
            #expect(ndjson.events == 3_000)
            let seqs = String(decoding: ndjson.bytes, as: UTF8.self).split(separator: "\n").map { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["seq"] as? Int ?? 0
            }
            #expect(seqs == Array(1...3_000))
        }
    }

    @Test func anEmptyLogExportsTheFormatsFraming() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await AuditLog.open(directory: dir, options: testOptions())
            for format in ExportFormat.allCases {
                let expected = try sequential(log, Query(order: .oldestFirst), format)
                let got = try await chunked(log.exportChunks(Query(order: .oldestFirst), format: format))
                #expect(String(decoding: got.bytes, as: UTF8.self) == String(decoding: expected.bytes, as: UTF8.self))
                #expect(got.chunks == 1 && got.events == 0)
            }
            #expect(try await chunked(log.exportChunks(Query(order: .oldestFirst), format: .json)).bytes == Array("[]\n".utf8))
            try await log.close()
        }
    }

    @Test func damageInOneRunFailsTheExport() async throws {
        try await withTemporaryDirectory { dir in
            try await writeGeneratedLog(dir, seed: 9, count: 2_000, days: 1, segmentBytes: 48 << 10)
            let paths = try segmentPaths(dir)
            #expect(paths.count >= 3)
            // A payload byte of the second segment's second frame.
            let name = URL(fileURLWithPath: paths[1]).lastPathComponent
            let frames = try frameHeaders(dir, name)
            try #require(frames.count >= 2)
            try flipByte(paths[1], at: Int(frames[1].offset) + FrameHeader.byteCount + 40)
            let log = try await AuditLog.open(directory: dir, options: .readOnly)
            let error = await #expect(throws: AuditLogError.self) {
                _ = try await chunked(log.exportChunks(Query(order: .oldestFirst), format: .ndjson))
            }
            #expect(error?.code == .corruption)
        }
    }
}
