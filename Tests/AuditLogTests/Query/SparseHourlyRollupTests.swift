import Foundation
import Testing

@testable import AuditLog

/// Index format version 3 leaves out the hourly rollup rows of a dimension whose hours hold few
/// records each (a user's hour) and lists the dimensions it keeps; usage by such a dimension
/// and time scans the columns and gives the same rows (docs/FORMAT.md, "Index file").
@Suite struct SparseHourlyRollupTests {
    /// 3,000 events over two days from many users: about one event per user and hour.
    func writeLog(_ dir: String) async throws -> AuditLog {
        try await writeGeneratedLog(dir, seed: 23, count: 3_000, days: 2, segmentBytes: 128 << 10)
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
                #expect(reader.version == IndexFile.formatVersion)
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

    /// The rollup tables against a plain sum of every record into every row, on columns made
    /// to take each path: a dense hourly array (team: 4 values, 2 users an hour), a table of the slots used (400
    /// users over 200 hours, each in one), a dimension left out (3,000 api keys, each in about
    /// two hours), with the records out of time order and in it (where a value met in another
    /// hour is counted as a new row without remembering the pairs seen).
    @Test(arguments: [false, true]) func rollupsEqualAPlainSumOfEveryRecord(inTimeOrder: Bool) throws {
        let n = 8_000
        let hour: Int64 = 3_600_000_000_000
        var c = IndexColumns()
        var rng = SplitMix64(seed: 5)
        var sizes = [Int](repeating: 1, count: Dimension.columns.count)
        let user = try #require(Dimension.user.column)
        let team = try #require(Dimension.team.column)
        let key = try #require(Dimension.apiKey.column)
        sizes[user] = 400
        sizes[team] = 4
        sizes[key] = 3_000
        for i in 0..<n {
            let u = i % 400
            c.timestamps.append(Int64(u / 2) * hour + Int64(rng.next() % UInt64(hour)))
            c.verdicts.append(UInt8(rng.next() % 5))
            c.cacheHits.append(UInt8(rng.next() % 3))
            for column in Dimension.columns.indices {
                let code: UInt32 =
                    switch column {
                    case user: UInt32(u + 1)
                    case team: UInt32(u / 100)
                    case key: UInt32(rng.next() % 3_001)
                    default: UInt32(rng.next() % 2)
                    }
                c.dims[column].append(code)
            }
            c.tokensIn.append(Int64(rng.next() % 5_000) - 1)
            c.tokensOut.append(Int64(rng.next() % 500) - 1)
            c.costNanos.append(Int64(rng.next() % 9_000_000) - 1)
            c.latencyMicros.append(rng.next() % 7 == 0 ? -1 : Int64(rng.next() % 3_000_000))
        }
        if inTimeOrder {
            let order = c.timestamps.indices.sorted { c.timestamps[$0] < c.timestamps[$1] }
            var sorted = IndexColumns()
            sorted.timestamps = order.map { c.timestamps[$0] }
            sorted.verdicts = order.map { c.verdicts[$0] }
            sorted.cacheHits = order.map { c.cacheHits[$0] }
            sorted.dims = c.dims.map { column in order.map { column[$0] } }
            sorted.tokensIn = order.map { c.tokensIn[$0] }
            sorted.tokensOut = order.map { c.tokensOut[$0] }
            sorted.costNanos = order.map { c.costNanos[$0] }
            sorted.latencyMicros = order.map { c.latencyMicros[$0] }
            c = sorted
        }
        let computed = try #require(IndexData.rollups(c, dictionarySizes: sizes))
        var expected: [RollupKey: UsageAggregate] = [:]
        for i in 0..<n {
            let h = c.timestamps[i] - c.timestamps[i] % hour
            for dimension in [nil] + Dimension.rolledUp {
                let value = dimension.map { c.code($0, i) } ?? 0
                expected[RollupKey(dimension: dimension, value: value, hourNanos: RollupKey.allTime), default: UsageAggregate()].add(c, i)
                guard computed.hourlyMask & (1 << (dimension?.rollupCode ?? 0)) != 0 else { continue }
                expected[RollupKey(dimension: dimension, value: value, hourNanos: h), default: UsageAggregate()].add(c, i)
            }
        }
        let userBit = UInt16(1) << (Dimension.user.rollupCode ?? 0)
        let teamBit = UInt16(1) << (Dimension.team.rollupCode ?? 0)
        let keyBit = UInt16(1) << (Dimension.apiKey.rollupCode ?? 0)
        #expect(computed.hourlyMask & userBit != 0 && computed.hourlyMask & teamBit != 0 && computed.hourlyMask & 1 != 0)
        #expect(computed.hourlyMask & keyBit == 0)
        #expect(computed.rows.count == expected.count)
        #expect(computed.rows == expected)
    }
}
