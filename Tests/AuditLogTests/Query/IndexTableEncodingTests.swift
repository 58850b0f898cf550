import Testing

@testable import AuditLog

/// The two index tables a seal writes fastest-path: the id table's radix sort against a
/// comparison sort, and rollup rows written into reserved room read back whole.
@Suite struct IndexTableEncodingTests {
    @Test(arguments: [0, 1, 2, 3, 100, 5_000])
    func idTableSortsLikeAComparisonSort(count: Int) {
        var rng = SplitMix64(seed: UInt64(count) + 1)
        // Half the hashes from a small range (many repeats, whose ordinals must stay in
        // order), half from the whole range (every digit of the radix sort in play).
        let hashes = (0..<count).map { i in i % 2 == 0 ? UInt32(rng.below(7)) : UInt32(truncatingIfNeeded: rng.next()) }
        let expected = hashes.enumerated().map { (hash: $1, ordinal: UInt32($0)) }.sorted { ($0.hash, $0.ordinal) < ($1.hash, $1.ordinal) }
        let table = IDTableSort.sorted(hashes)
        #expect(table.hashes == expected.map(\.hash))
        #expect(table.ordinals == expected.map(\.ordinal))
    }

    @Test(arguments: [true, false])
    func rollupRowsRoundTripAtTheirLimits(gaps: Bool) throws {
        var big = UsageAggregate(
            requests: 1 << 40, tokensIn: Int128(Int64.max), tokensOut: 0, costNanos: Int128(Int64.max - 1), cacheHits: 1 << 40,
            blocked: 3, redacted: 0, escalated: 1 << 39, latencyCount: 1 << 40, latencySumMicros: Int128(Int64.max))
        // Every bucket from 0 to the highest, counts summing to the row's latency count.
        big.sketch = LatencySketch(ascending: (0...LatencySketch.maxBucket).map { (bucket: $0, count: UInt64($0 == 0 ? (1 << 40) - LatencySketch.maxBucket : 1)) })
        var small = UsageAggregate()
        small.add(verdict: 0, cacheHit: 0, tokensIn: -1, tokensOut: 5, costNanos: -1, latencyMicros: 250_000)
        var w = ByteWriter()
        w.write(UInt8(0xAB))  // rows go after what the writer holds
        for row in [big, small, UsageAggregate(requests: 1)] { row.encode(to: &w, gaps: gaps) }
        try w.bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            #expect(try r.readUInt8("marker") == 0xAB)
            for row in [big, small, UsageAggregate(requests: 1)] {
                #expect(try UsageAggregate.decode(from: &r, recordCount: 1 << 41, gaps: gaps) == row)
            }
            #expect(r.isAtEnd)
        }
    }

    /// Format 5's rollup rows: hours as distances in hours from the row before, sketch buckets
    /// as gaps. Read back as written, in either section; an hour or a bucket that runs past what
    /// a row can hold is damage, never a trap.
    @Test func compactRollupRowsReadBackAndRefuseWhatRunsPast() throws {
        let hour = IndexData.hourNanos
        var a = UsageAggregate()
        a.add(verdict: 2, cacheHit: 1, tokensIn: 10, tokensOut: 20, costNanos: 30, latencyMicros: 40)
        a.add(verdict: 1, cacheHit: 2, tokensIn: 1, tokensOut: 2, costNanos: 3, latencyMicros: 9_000_000)
        let rows: [RollupKey: UsageAggregate] = [
            RollupKey(dimension: nil, value: 0, hourNanos: 491_000 * hour): a,
            RollupKey(dimension: nil, value: 0, hourNanos: 490_000 * hour): a,
            RollupKey(dimension: .verdict, value: 2, hourNanos: 0): a,
            RollupKey(dimension: .user, value: 1, hourNanos: 490_001 * hour): a,
        ]
        var data = IndexData(firstSeq: SequenceNumber(1))
        data.dictionaries[Dimension.user.column ?? 0] = ["alice"]
        data.rollups = rows
        data.hourlyMask = IndexData.everyHourly
        func decode(_ bytes: [UInt8]) throws(FormatError) -> [RollupKey: UsageAggregate] {
            try IndexFile.decodeRollups(
                bytes, recordCount: 10, dictionarySizes: data.dictionaries.map(\.count), hourly: true, maxCode: UInt8(Dimension.rolledUp.count),
                listsHourly: true, hourlyMask: IndexData.everyHourly, compact: true
            ).rows
        }
        var w = ByteWriter()
        IndexFile.encode(.hourlyRollups, of: data, version: IndexFile.formatVersion, to: &w)
        #expect(try decode(w.bytes) == rows)
        // One row, total, hour 2^63 ns / 1 h + 1 hours: past what a time can hold.
        var far = ByteWriter()
        far.writeVarint(UInt64(IndexData.everyHourly))
        far.writeVarint(1)
        far.write(UInt8(0))
        far.writeVarint(0)
        far.writeVarint(DeltaCoding.zigzag(Int64.max / hour + 1))
        UsageAggregate(requests: 1).encode(to: &far)
        #expect(throws: FormatError.self) { try decode(far.bytes) }
        // A sketch whose second bucket lies `gap` buckets past its first (bucket 0): the last
        // bucket fits, one more is damage.
        func row(gap: Int) -> [UInt8] {
            var w = ByteWriter()
            w.writeVarint(UInt64(IndexData.everyHourly))
            w.writeVarint(1)
            w.write(UInt8(0))
            for v: UInt64 in [0, DeltaCoding.zigzag(490_000), 2, 0, 0, 0, 0, 0, 0, 0, 2, 80, 2, 0, 1, UInt64(gap), 1] { w.writeVarint(v) }
            return w.bytes
        }
        #expect(try decode(row(gap: LatencySketch.maxBucket - 1)).values.first?.sketch.buckets.map(\.bucket) == [0, UInt16(LatencySketch.maxBucket)])
        #expect(throws: FormatError.self) { try decode(row(gap: LatencySketch.maxBucket)) }
    }

    /// Format 5's id table packs the ordinals in as few bits as the segment needs: it reads back
    /// at every size, and an ordinal past the records or a byte past the table is damage.
    @Test(arguments: [0, 1, 2, 3, 1_000, 70_000])
    func idTablesWithPackedOrdinalsReadBack(count: Int) throws {
        var rng = SplitMix64(seed: UInt64(count) + 3)
        var data = IndexData(firstSeq: SequenceNumber(1))
        (data.idHashes, data.idOrdinals) = IDTableSort.sorted((0..<count).map { _ in UInt32(truncatingIfNeeded: rng.next()) })
        for version: UInt16 in [4, IndexFile.formatVersion] {
            var w = ByteWriter()
            IndexFile.encode(.ids, of: data, version: version, to: &w)
            let read = try IndexFile.decodeIDs(w.bytes, recordCount: count, packedOrdinals: version >= 5)
            #expect(read.hashes == data.idHashes && read.ordinals == data.idOrdinals)
        }
        var w = ByteWriter()
        IndexFile.encode(.ids, of: data, version: IndexFile.formatVersion, to: &w)
        #expect(throws: FormatError.self) { try IndexFile.decodeIDs(w.bytes + [0], recordCount: count, packedOrdinals: true) }
    }

    @Test func anIDOrdinalPastTheRecordsIsDamage() throws {
        // Three records: hashes 1, 2, 3; ordinals in 2 bits: 0, 1, then 3 (there is no record 3).
        var w = ByteWriter()
        for v: UInt64 in [3, 1, 1, 1] { w.writeVarint(v) }
        PackedCodes.append([0, 1, 3], bits: 2, to: &w.bytes)
        #expect(throws: FormatError.self) { try IndexFile.decodeIDs(w.bytes, recordCount: 3, packedOrdinals: true) }
        var fine = ByteWriter()
        for v: UInt64 in [3, 1, 1, 1] { fine.writeVarint(v) }
        PackedCodes.append([0, 1, 2], bits: 2, to: &fine.bytes)
        #expect(try IndexFile.decodeIDs(fine.bytes, recordCount: 3, packedOrdinals: true).ordinals == [0, 1, 2])
    }
}
