import Testing

@testable import AuditLog

/// The latency sketch behind usage percentiles: dense over the span of buckets it has seen,
/// equal whatever order values arrive or sketches merge in, and within a bucket's width of the
/// exact percentile.
@Suite struct LatencySketchTests {
    @Test(arguments: [UInt64(7), 8, 9])
    func orderOfAddsAndMergesDoesNotMatter(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let values = (0..<2_000).map { _ in Int64(rng.next() >> UInt64(20 + rng.below(40))) }
        var whole = LatencySketch()
        for v in values { whole.add(v) }
        var reversed = LatencySketch()
        for v in values.reversed() { reversed.add(v) }
        #expect(whole == reversed)
        // Split into parts in any way and merged in any order: the same sketch.
        var parts = [LatencySketch](repeating: LatencySketch(), count: 5)
        for v in values { parts[rng.below(5)].add(v) }
        var merged = LatencySketch()
        for part in parts.shuffled() { merged.merge(part) }
        #expect(merged == whole)
        #expect(merged.buckets.map(\.count).reduce(0, +) == UInt64(values.count))
        // Empty sketches merge to nothing and compare equal.
        var empty = LatencySketch()
        empty.merge(LatencySketch())
        #expect(empty == LatencySketch() && empty.quantile(0.5) == nil)
    }

    @Test func quantilesAreWithinABucketOfTheExactValue() {
        var sketch = LatencySketch()
        let values = (1...10_000).map { Int64($0) * 997 }
        for v in values { sketch.add(v) }
        for q in [0.5, 0.9, 0.95, 0.99] {
            let exact = values[Int((q * Double(values.count)).rounded(.up)) - 1]
            guard let estimate = sketch.quantile(q) else { Issue.record("no quantile"); continue }
            #expect(abs(Double(estimate - exact)) <= Double(exact) / 16, "q \(q): \(estimate) vs \(exact)")
        }
        // Small values are exact; the span starts at the smallest bucket seen.
        var small = LatencySketch()
        for v: Int64 in [5, 3, 31, 3] { small.add(v) }
        #expect(small.buckets.map(\.bucket) == [3, 5, 31] && small.quantile(0.5) == 3 && small.quantile(1) == 31)
    }
}
