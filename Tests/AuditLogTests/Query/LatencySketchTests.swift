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

    /// Spans grow with slack: a sketch built by adds (slack at its ends), the same counts read
    /// back exactly spanned, and its compacted copy are equal, hash alike and list the same
    /// buckets; compacting leaves no slack; the extreme buckets (0 and the largest) are held.
    @Test func slackIsInvisible() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<50 {
            var sketch = LatencySketch()
            var reference: [Int: UInt64] = [:]
            for _ in 0..<Int(rng.below(300)) {
                let v: Int64 = rng.below(20) == 0 ? [0, .max][rng.below(2)] : Int64(rng.next() >> UInt64(1 + rng.below(62)))
                sketch.add(v)
                reference[Int(LatencySketch.bucket(v)), default: 0] += 1
            }
            let exact = LatencySketch(ascending: reference.sorted { $0.key < $1.key }.map { (bucket: $0.key, count: $0.value) })
            let compact = sketch.compacted()
            #expect(sketch == exact && compact == exact && sketch.hashValue == exact.hashValue && compact.hashValue == sketch.hashValue)
            #expect(sketch.buckets.map(\.bucket) == exact.buckets.map(\.bucket) && sketch.buckets.map(\.count) == exact.buckets.map(\.count))
            #expect(compact.counts.first != 0 && compact.counts.last != 0 || compact.counts.isEmpty)
            #expect(compact.counts.count == exact.counts.count && sketch.counts.count >= exact.counts.count)
            for q in [0.0, 0.5, 0.99, 1] { #expect(sketch.quantile(q) == exact.quantile(q)) }
        }
    }
}
