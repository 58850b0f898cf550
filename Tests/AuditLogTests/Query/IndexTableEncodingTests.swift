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

    @Test func rollupRowsRoundTripAtTheirLimits() throws {
        var big = UsageAggregate(
            requests: 1 << 40, tokensIn: Int128(Int64.max), tokensOut: 0, costNanos: Int128(Int64.max - 1), cacheHits: 1 << 40,
            blocked: 3, redacted: 0, escalated: 1 << 39, latencyCount: 1 << 40, latencySumMicros: Int128(Int64.max))
        // Every bucket from 0 to the highest, counts summing to the row's latency count.
        big.sketch = LatencySketch(ascending: (0...LatencySketch.maxBucket).map { (bucket: $0, count: UInt64($0 == 0 ? (1 << 40) - LatencySketch.maxBucket : 1)) })
        var small = UsageAggregate()
        small.add(verdict: 0, cacheHit: 0, tokensIn: -1, tokensOut: 5, costNanos: -1, latencyMicros: 250_000)
        var w = ByteWriter()
        w.write(UInt8(0xAB))  // rows go after what the writer holds
        for row in [big, small, UsageAggregate(requests: 1)] { row.encode(to: &w) }
        try w.bytes.withRawBytes { (raw) throws(FormatError) in
            var r = ByteReader(raw)
            #expect(try r.readUInt8("marker") == 0xAB)
            for row in [big, small, UsageAggregate(requests: 1)] {
                #expect(try UsageAggregate.decode(from: &r, recordCount: 1 << 41) == row)
            }
            #expect(r.isAtEnd)
        }
    }
}
