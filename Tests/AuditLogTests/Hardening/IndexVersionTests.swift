import Foundation
import Testing

@testable import AuditLog

/// Index files of format version 1 (rollups of six dimensions) are still read, not rebuilt,
/// and usage by the dimensions version 2 added reads their segments' columns; a version-1 file
/// with a row of a version-2 dimension is damage (docs/FORMAT.md, "Index file").
@Suite struct IndexVersionTests {
    func writeLog(_ dir: String) async throws -> AuditLog {
        try await writeGeneratedLog(dir, seed: 17, count: 2_000, days: 2, segmentBytes: 16 << 10)
    }

    @Test func aVersion1IndexIsReadAndUsageByTheNewKeysScansItsColumns() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir)
            let sealed = log.segments.filter(\.isSealed)
            #expect(sealed.count > 3)
            // Every sealed segment's index rewritten as a version-1 writer wrote it (every hour).
            for segment in sealed {
                let data = try IndexStore.build(log.files, segment: segment, from: nil, minRecordsPerHourlyRow: 0)
                let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
                try Data(IndexFile.encode(data, binding: IndexFile.Binding(sealed: segment), version: 1)).write(to: URL(fileURLWithPath: path))
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(bytes[8] == 1 && bytes[9] == 0)
            }
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let all = try await readAll(reader)
            for keys in [[UsageGroup.reasonCode], [.source], [.eventType], [.user], [.day, .eventType]] {
                let report = try await reader.usage(groupBy: keys)
                let expected = QueryPropertyTests.bruteUsage(all, window: .all, groupBy: keys, filter: EventFilter())
                #expect(Set(report.rows.filter { $0.requests > 0 }) == Set(expected.map { UsageRow(group: $0.key, $0.value) }), "\(keys)")
                if keys == [.user] { #expect(report.segmentsFromRollups == sealed.count) }
                if keys == [.reasonCode] { #expect(report.segmentsFromRollups == 0 && report.segmentsScanned >= sealed.count) }
            }
            #expect(reader.indexRebuilds.isEmpty, "\(reader.indexRebuilds)")
            try await reader.close()

            // A version-2 writer's index answers them from rollups.
            let fresh = try await AuditLog.open(directory: dir + "-v2", options: testOptions())
            _ = try await fresh.append(all.map(\.event))
            try await fresh.close()
            let v2 = try await AuditLog.open(directory: dir + "-v2", options: .readOnly)
            let byReason = try await v2.usage(groupBy: [.reasonCode])
            #expect(byReason.segmentsFromRollups > 0)
            #expect(Set(byReason.rows.map(\.requests)) == Set(try await reader.usage(groupBy: [.reasonCode]).rows.map(\.requests)))
            try await v2.close()
            try? FileManager.default.removeItem(atPath: dir + "-v2")
        }
    }

    @Test func aVersion1IndexWithARowOfANewDimensionIsRebuilt() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await writeLog(dir)
            let sealed = log.segments.filter(\.isSealed)
            let segment = try #require(sealed.first)
            // Version 2's rows (reason_code and the rest) under a version-1 header.
            let data = try IndexStore.build(log.files, segment: segment, from: nil)
            #expect(data.rollups?.keys.contains { $0.dimension == .reasonCode } == true)
            var bytes = IndexFile.encode(data, binding: IndexFile.Binding(sealed: segment))
            bytes[8] = 1
            let checksum = bytes.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[0..<120])) }
            withUnsafeBytes(of: checksum.littleEndian) { for (i, b) in $0.enumerated() { bytes[120 + i] = b } }
            let path = log.files.segmentPath(LogDirectory.name(of: .index, forSegment: segment.fileName))
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let report = try await reader.usage(groupBy: [.user])
            #expect(report.totals.requests == 2_000)
            #expect(reader.indexRebuilds.count == 1, "\(reader.indexRebuilds)")
            try await reader.close()
        }
    }
}
