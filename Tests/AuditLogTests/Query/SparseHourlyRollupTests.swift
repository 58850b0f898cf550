import Foundation
import Testing

@testable import AuditLog

/// Index format version 3 leaves out the hourly rollup rows of a dimension whose hours hold few
/// records each (a user's hour) and lists the dimensions it keeps; usage by such a dimension
/// and time scans the columns and gives the same rows (docs/FORMAT.md, "Index file").
@Suite struct SparseHourlyRollupTests {
    /// 3,000 events over two days from many users: about one event per user and hour.
    func writeLog(_ dir: String) async throws -> AuditLog {
        var options = testOptions()
        options.segmentSizeLimitBytes = 128 << 10
        let log = try await AuditLog.open(directory: dir, options: options)
        var generator = EventGenerator(seed: 23, count: 3_000, days: 2, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
        var batch: [AuditEvent] = []
        while let e = generator.next() { batch.append(e) }
        _ = try await log.append(batch)
        try await log.close()
        return log
    }

    @Test func sparseDimensionsHaveNoHourlyRowsAndTheirSeriesScanTheColumns() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir)
            let sealed = log.segments.filter(\.isSealed)
            #expect(sealed.count >= 2)
            let userBit = UInt16(1) << (Dimension.user.rollupCode ?? 0)
            let verdictBit = UInt16(1) << (Dimension.verdict.rollupCode ?? 0)
            for segment in sealed {
                let opened = try IndexFile.Reader(log.files, segment: segment)
                let reader = try #require(opened)
                #expect(reader.version == 3)
                let data = try IndexStore.build(log.files, segment: segment, from: nil)
                // The writer's rule, checked against the rows themselves.
                let userHours = data.rollups?.keys.filter { $0.dimension == .user && $0.hourNanos != RollupKey.allTime }.count ?? -1
                #expect(userHours == 0 && data.hourlyMask & userBit == 0, "\(segment.fileName)")
                #expect(data.hourlyMask & 1 != 0 && data.hourlyMask & verdictBit != 0)
                let all = try IndexStore.build(log.files, segment: segment, from: nil, minRecordsPerHourlyRow: 0)
                let denseUserHours = all.rollups?.keys.filter { $0.dimension == .user && $0.hourNanos != RollupKey.allTime }.count ?? 0
                #expect(denseUserHours * IndexData.recordsPerHourlyRow > Int(segment.recordCount))
            }
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let events = try await readAll(reader)
            for keys in [[UsageGroup.user, .day], [.hour, .user], [.verdict, .hour], [.day], [.model, .day], [.user]] {
                let report = try await reader.usage(groupBy: keys)
                let expected = QueryPropertyTests.bruteUsage(events, window: .all, groupBy: keys, filter: EventFilter())
                #expect(Set(report.rows.filter { $0.requests > 0 }) == Set(expected.map { UsageRow(group: $0.key, $0.value) }), "\(keys)")
                if keys.contains(.user) && keys.count == 2 { #expect(report.segmentsFromRollups == 0, "\(keys)") }
                if keys == [.verdict, .hour] || keys == [.day] || keys == [.user] { #expect(report.segmentsFromRollups == sealed.count, "\(keys)") }
            }
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    /// A version-2 index (every hour of every dimension) is read as it is: a user's series comes
    /// from its rollups.
    @Test func aVersion2IndexAnswersEveryHourFromItsRollups() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir)
            let sealed = log.segments.filter(\.isSealed)
            for segment in sealed {
                let data = try IndexStore.build(log.files, segment: segment, from: nil, minRecordsPerHourlyRow: 0)
                let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
                try Data(IndexFile.encode(data, binding: IndexFile.Binding(sealed: segment), version: 2)).write(to: URL(fileURLWithPath: path))
            }
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let events = try await readAll(reader)
            let report = try await reader.usage(groupBy: [.user, .day])
            let expected = QueryPropertyTests.bruteUsage(events, window: .all, groupBy: [.user, .day], filter: EventFilter())
            #expect(Set(report.rows.filter { $0.requests > 0 }) == Set(expected.map { UsageRow(group: $0.key, $0.value) }))
            #expect(report.segmentsFromRollups == sealed.count)
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }

    /// Version 2's writer never leaves hours out: data without them written as version 2 has
    /// no rollup sections at all (usage scans), never a partial hourly table read as complete.
    @Test func sparseDataWrittenAsVersion2HasNoRollups() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir)
            let segment = try #require(log.segments.first { $0.isSealed })
            let data = try IndexStore.build(log.files, segment: segment, from: nil)
            let bytes = IndexFile.encode(data, binding: IndexFile.Binding(sealed: segment), version: 2)
            let sections = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) }
            #expect(sections == 15)
        }
    }
}
