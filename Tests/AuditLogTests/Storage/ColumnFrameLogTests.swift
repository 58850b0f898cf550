import Foundation
import Testing

@testable import AuditLog

/// Logs written with ``AuditLogOptions/FrameEncoding/columns``: segments of version 2 whose
/// frames are columns (codec 2), read, queried and verified as the rows of version 1 are.
@Suite struct ColumnFrameLogTests {
    /// The same generated events in a log of each encoding.
    func withBothLogs(_ body: (_ rows: String, _ columns: String) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            var generator = EventGenerator(seed: 16, count: 3000, days: 2, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
            var batch: [AuditEvent] = []
            while let e = generator.next() { batch.append(e) }
            for (name, encoding) in [("rows", AuditLogOptions.FrameEncoding.rows), ("columns", .columns)] {
                var options = testOptions(segmentBytes: 128 << 10)
                options.frameEncoding = encoding
                let log = try await AuditLog.open(directory: dir + "/" + name, options: options)
                for chunk in stride(from: 0, to: batch.count, by: 500) {
                    _ = try await log.append(Array(batch[chunk..<min(chunk + 500, batch.count)]))
                }
                try await log.close()
            }
            try await body(dir + "/rows", dir + "/columns")
        }
    }

    /// Segment versions (header bytes 8–9) and frame codecs of a log, in file order.
    func layout(_ dir: String) throws -> (versions: [UInt16], codecs: [FrameHeader.Codec]) {
        var versions: [UInt16] = []
        var codecs: [FrameHeader.Codec] = []
        for path in try segmentPaths(dir) {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            versions.append(UInt16(bytes[8]) | UInt16(bytes[9]) << 8)
            codecs += try frameHeaders(dir, (path as NSString).lastPathComponent).map(\.header.codec)
        }
        return (versions, codecs)
    }

    @Test func aColumnsLogHoldsReadsAndVerifiesWhatARowsLogDoes() async throws {
        try await withBothLogs { rowsDir, columnsDir in
            let rowsLayout = try layout(rowsDir)
            let columnsLayout = try layout(columnsDir)
            #expect(Set(rowsLayout.versions) == [1] && !rowsLayout.codecs.contains(.columns))
            #expect(Set(columnsLayout.versions) == [2] && columnsLayout.versions.count >= 2)
            #expect(columnsLayout.codecs.allSatisfy { $0 == .columns }, "\(columnsLayout.codecs)")
            let rowsBytes = try segmentPaths(rowsDir).map(fileSize).reduce(0, +)
            let columnsBytes = try segmentPaths(columnsDir).map(fileSize).reduce(0, +)
            #expect(columnsBytes * 10 < rowsBytes * 8, "\(columnsBytes) column bytes against \(rowsBytes) of rows")

            let rows = try await AuditLog.open(directory: rowsDir, options: .readOnly)
            let columns = try await AuditLog.open(directory: columnsDir, options: .readOnly)
            #expect(try await readAll(columns).map(\.event) == readAll(rows).map(\.event))
            #expect(try await readAll(columns, order: .newestFirst).map(\.seq) == readAll(rows, order: .newestFirst).map(\.seq))
            // Index-driven reads (the index of a column segment is built from its decoded rows).
            let someone = try #require(try await readAll(rows)[1234].event.user)
            let query = Query(filter: EventFilter(users: [someone]), order: .oldestFirst)
            let expected = try await readPages(rows, query, pageSize: 7)
            #expect(!expected.isEmpty)
            #expect(try await readPages(columns, query, pageSize: 7) == expected)
            #expect(try await columns.record(at: SequenceNumber(2345))?.event == rows.record(at: SequenceNumber(2345))?.event)
            // Usage from the indexes (built from only the fields they keep of a column frame).
            for groups: [UsageGroup] in [[.user, .model], [.team, .apiKey], [.day, .source, .reasonCode]] {
                let filter = EventFilter(verdicts: [.allow, .block])
                let a = try await columns.usage(groupBy: groups, filter: filter)
                let b = try await rows.usage(groupBy: groups, filter: filter)
                // (The logs' segments differ, so how many were answered from rollups does too.)
                #expect(a.rows == b.rows && a.totals == b.totals && !a.rows.isEmpty, "\(groups)")
            }
            try await rows.close()
            try await columns.close()

            let report = try await AuditLog.verify(directory: columnsDir, options: VerificationOptions(deep: true))
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.recordsChecked == 3000)
        }
    }

    /// Sparse reads of a column log — the newest few of a kind, one event by id — rebuild only
    /// the records they return, and return what the same reads of a rows log do (whose frames
    /// are decompressed in part or whole, but not cached, the first time); a frame read a second time is
    /// read whole and cached; a record the sparse read left out (a candidate
    /// the query did not expect) reads the frame again, whole.
    @Test func sparseReadsReturnWhatWholeFramesDo() async throws {
        try await withBothLogs { rowsDir, columnsDir in
            let rows = try await AuditLog.open(directory: rowsDir, options: .readOnly)
            let columns = try await AuditLog.open(directory: columnsDir, options: .readOnly)
            let blocked = Query(filter: EventFilter(verdicts: [.block]), order: .newestFirst, limit: 10)
            let expected = try await rows.page(blocked).records
            #expect(expected.count == 10)
            #expect(rows.frames.bytes == 0, "row frames read in part the first time are not cached")
            #expect(try await rows.page(blocked).records == expected)
            #expect(rows.frames.bytes > 0, "row frames read a second time are cached")
            #expect(try await columns.page(blocked).records == expected)
            #expect(columns.frames.bytes == 0, "frames read in part are not cached")
            #expect(try await columns.page(blocked).records == expected)
            #expect(columns.frames.bytes > 0, "frames read a second time are cached whole")

            // Candidates past the ones expected, in frames read in part (a fresh handle): a
            // search the index cannot answer rejects most of them.
            let searched = Query(filter: EventFilter(verdicts: [.block, .allow], search: "claude"), order: .newestFirst, limit: 5)
            let found = try await rows.page(searched).records
            #expect(found.count == 5)
            let fresh = try await AuditLog.open(directory: columnsDir, options: .readOnly)
            #expect(try await fresh.page(searched).records == found)
            try await fresh.close()
            let oldest = Query(filter: EventFilter(users: [try #require(expected[0].event.user)]), order: .oldestFirst, limit: 3)
            #expect(try await columns.page(oldest).records == rows.page(oldest).records)

            for seq in stride(from: 7, through: 3000, by: 331) {
                let id = try #require(try await rows.record(at: SequenceNumber(UInt64(seq)))?.event.id)
                let record = try await columns.event(id: id)
                #expect(record?.seq == SequenceNumber(UInt64(seq)))
                #expect(record == (try await rows.event(id: id)))
            }
            try await rows.close()
            try await columns.close()
        }
    }

    /// Opens the log at `dir` with `options`, appends `count` events from `start`, closes it.
    func append(_ count: Int, from start: String, to dir: String, _ options: AuditLogOptions) async throws {
        let log = try await AuditLog.open(directory: dir, options: options)
        _ = try await log.append(events(count, from: try #require(Timestamp(rfc3339: start))))
        try await log.close()
    }

    @Test func theEncodingFollowsTheSegmentAndAnUnsaidOneTheLog() async throws {
        try await withBothLogs { rowsDir, columnsDir in
            // A columns handle on a version-1 active segment writes rows there; a rows handle
            // on a version-2 one writes rows into it (codec 1 is allowed in version 2).
            var columns = testOptions(segmentBytes: 128 << 10)
            columns.frameEncoding = .columns
            var rows = testOptions(segmentBytes: 128 << 10)
            rows.frameEncoding = .rows
            for (dir, options) in [(rowsDir, columns), (columnsDir, rows)] { try await append(20, from: "2026-03-20T23:59:00Z", to: dir, options) }
            #expect(try layout(rowsDir).versions.last == 1 && layout(rowsDir).codecs.last == .lz4)
            #expect(try layout(columnsDir).versions.last == 2 && layout(columnsDir).codecs.last == .lz4)
            // The next segments (a new day) are as each handle says.
            for (dir, options) in [(rowsDir, columns), (columnsDir, rows)] { try await append(50, from: "2026-03-21T00:00:00Z", to: dir, options) }
            #expect(try layout(rowsDir).versions.last == 2 && layout(rowsDir).codecs.last == .columns)
            #expect(try layout(columnsDir).versions.last == 1 && layout(columnsDir).codecs.last == .lz4)
            // A handle that says nothing goes on as the newest segment: columns in the first
            // log now, rows in the second, in this segment and the next.
            for day in ["2026-03-21T12:00:00Z", "2026-03-22T00:00:00Z"] {
                for dir in [rowsDir, columnsDir] { try await append(50, from: day, to: dir, testOptions(segmentBytes: 128 << 10)) }
            }
            #expect(try layout(rowsDir).versions.suffix(2) == [2, 2] && layout(rowsDir).codecs.suffix(3) == [.columns, .columns, .columns])
            #expect(try layout(columnsDir).versions.suffix(2) == [1, 1] && layout(columnsDir).codecs.suffix(3) == [.lz4, .lz4, .lz4])
            for dir in [rowsDir, columnsDir] {
                let report = try await AuditLog.verify(directory: dir)
                #expect(report.isIntact && report.recordsChecked == 3170, "\(report.issues)")
            }
        }
    }

    @Test func aTornColumnFrameIsCutLikeARowFrame() async throws {
        try await withTemporaryDirectory { dir in
            var options = testOptions()
            options.frameEncoding = .columns
            let original = dir + "/original"
            let log = try await AuditLog.open(directory: original, options: options)
            _ = try await log.append(events(40, prefix: "a"))
            let segment = try #require(try segmentPaths(original).last)
            let lastFrameStart = try fileSize(segment)
            _ = try await log.append(events(30, from: Timestamp(rfc3339: "2026-03-20T02:00:00Z")!, prefix: "b"))
            try await log.close()
            // As a writer that crashed instead of closing: no active index checkpoint.
            try FileManager.default.removeItem(atPath: String(segment.dropLast(4)) + ".aidx")
            #expect(try frameHeaders(original, (segment as NSString).lastPathComponent).map(\.header.codec) == [.columns, .columns])
            let size = try fileSize(segment)
            for cut in stride(from: lastFrameStart + 1, to: size, by: 37) {
                let copy = dir + "/cut-\(cut)"
                try FileManager.default.copyItem(atPath: original, toPath: copy)
                try truncateFile(copy + "/segments/" + (segment as NSString).lastPathComponent, to: cut)
                let reopened = try await AuditLog.open(directory: copy, options: options)
                #expect(reopened.recovery.first?.offset == Int64(lastFrameStart), "cut at \(cut)")
                #expect(reopened.head.lastSeq == SequenceNumber(41), "cut at \(cut)")  // 40 kept, then log.recovered
                try await reopened.close()
                let report = try await AuditLog.verify(directory: copy)
                #expect(report.isIntact, "cut at \(cut): \(report.issues)")
            }
        }
    }

    /// One-event groups make one-record frames, where columns are not always smaller than the
    /// record: each frame takes whichever codec is smaller, and all read back.
    @Test func smallFramesTakeWhicheverCodecIsSmaller() async throws {
        try await withTemporaryDirectory { dir in
            var options = testOptions()
            options.frameEncoding = .columns
            let log = try await AuditLog.open(directory: dir, options: options)
            let appended =
                [fullEvent(id: "evt_small_1"), AuditEvent(eventType: "x", timestamp: Timestamp(rfc3339: "2026-03-20T10:30:01Z")!)]
                + events(3, from: Timestamp(rfc3339: "2026-03-20T10:31:00Z")!, prefix: "s")
            for event in appended { _ = try await log.append([event]) }
            _ = try await log.append(events(60, from: Timestamp(rfc3339: "2026-03-20T11:00:00Z")!, prefix: "t"))
            try await log.close()
            let name = try #require(try segmentPaths(dir).first.map { ($0 as NSString).lastPathComponent })
            let codecs = try frameHeaders(dir, name).map(\.header.codec)
            #expect(codecs.count == 6 && codecs.last == .columns)
            #expect(codecs.contains(.lz4) || codecs.contains(.raw), "\(codecs)")
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            #expect(try await readAll(reader).prefix(5).map(\.event.eventType) == appended.map(\.eventType))
            let report = try await AuditLog.verify(directory: dir, options: VerificationOptions(deep: true))
            #expect(report.isIntact && report.recordsChecked == 65, "\(report.issues)")
        }
    }

    /// Rewrites a segment header's version (bytes 8–9) and its checksum.
    func setVersion(_ version: UInt16, of path: String) throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[8] = UInt8(version & 0xFF)
        bytes[9] = UInt8(version >> 8)
        let sum = bytes.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
        withUnsafeBytes(of: sum.littleEndian) { bytes.replaceSubrange(120..<128, with: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aColumnFrameInAVersionOneSegmentIsDamage() async throws {
        try await withBothLogs { _, columnsDir in
            let first = try #require(try segmentPaths(columnsDir).first)
            try setVersion(1, of: first)
            let report = try await AuditLog.verify(directory: columnsDir)
            let issue = try #require(report.issues.first)
            #expect(issue.message.contains("codec 2 (columns) in a version-1 segment"), "\(issue)")
            #expect(issue.offset == 128 + 5 && issue.seq == SequenceNumber(1))
            #expect(issue.file.hasSuffix("00000000000000000001.seg"))
        }
    }

    @Test func aSegmentOfAnUnknownVersionIsRefusedByName() async throws {
        try await withBothLogs { _, columnsDir in
            let first = try #require(try segmentPaths(columnsDir).first)
            try setVersion(3, of: first)
            let report = try await AuditLog.verify(directory: columnsDir)
            let issue = try #require(report.issues.first)
            #expect(issue.message.contains("segment format version 3; this build reads versions 1 and 2"), "\(issue)")
            #expect(issue.offset == 8)
        }
    }
}
