/// Latency percentiles from a log-linear histogram: values below 32 µs exactly, above that in
/// buckets 1/16 wide (≤ 6.25% relative error). Merging adds counts, so a percentile from merged
/// rollups equals the one from a scan of the same records.
struct LatencySketch: Hashable, Sendable {
    /// The bucket of `counts[0]`.
    private(set) var base = 0
    /// Count per bucket from `base` on. Dense over a span of buckets: adding is an increment,
    /// which matters when scanning millions of records. The span grows by half again with some
    /// slack when a latency falls outside it (zeros at its ends are that slack), so widening is
    /// rare; sketches kept (rollup rows) are ``compacted()`` to their extremes. Equality and
    /// hashing look only at the buckets that hold counts. 64-bit: a count can never exceed the
    /// number of records in a log.
    private(set) var counts: [UInt64] = []

    init() {}

    /// A sketch of (bucket, count) pairs in ascending bucket order with counts ≥ 1, exactly
    /// spanning them.
    init(ascending pairs: [(bucket: Int, count: UInt64)]) {
        guard let first = pairs.first, let last = pairs.last else { return }
        base = first.bucket
        counts = [UInt64](repeating: 0, count: last.bucket - first.bucket + 1)
        for (bucket, count) in pairs { counts[bucket - base] += count }
    }

    /// A sketch of `counts` from bucket `base` on, whose first and last counts are not zero
    /// (as ``compacted()`` leaves one).
    init(base: Int, exactSpan counts: [UInt64]) {
        self.base = base
        self.counts = counts
    }

    static func == (a: LatencySketch, b: LatencySketch) -> Bool {
        a.occupied.elementsEqual(b.occupied) { $0.bucket == $1.bucket && $0.count == $1.count }
    }

    func hash(into hasher: inout Hasher) {
        for (bucket, count) in occupied {
            hasher.combine(bucket)
            hasher.combine(count)
        }
    }

    /// The buckets with counts, in order.
    private var occupied: LazyMapSequence<LazyFilterSequence<EnumeratedSequence<[UInt64]>>, (bucket: Int, count: UInt64)> {
        counts.enumerated().lazy.filter { $0.element > 0 }.map { (base + $0.offset, $0.element) }
    }

    /// The same sketch without slack: its span from its lowest to its highest bucket.
    func compacted() -> LatencySketch {
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else { return LatencySketch() }
        if first == 0 && last == counts.count - 1 { return self }
        var out = LatencySketch()
        out.base = base + first
        out.counts = Array(counts[first...last])
        return out
    }

    /// The bucket of the largest latency a record can hold (`Int64.max` µs); a sketch read
    /// from an index file with a higher bucket is damaged.
    static let maxBucket = Int(bucket(.max))

    static func bucket(_ micros: Int64) -> UInt16 {
        let v = UInt64(max(0, micros))
        if v < 32 { return UInt16(v) }
        let e = 63 - v.leadingZeroBitCount - 4  // v >> e is in 16...31
        return UInt16(32 + (e - 1) * 16 + Int((v >> UInt64(e)) - 16))
    }

    /// The representative value of a bucket: exact below 32, else the bucket's middle.
    static func value(of bucket: UInt16) -> Int64 {
        if bucket < 32 { return Int64(bucket) }
        let e = (Int(bucket) - 32) / 16 + 1
        let m = (Int(bucket) - 32) % 16 + 16
        let lower = Int64(m) << Int64(e)
        return lower &+ ((Int64(1) << Int64(e)) - 1) / 2
    }

    mutating func add(_ micros: Int64) { add(bucket: Int(Self.bucket(micros)), count: 1) }

    mutating func add(bucket: Int, count: UInt64) {
        guard count > 0 else { return }
        let i = bucket &- base
        if i >= 0 && i < counts.count {
            counts[i] += count
            return
        }
        cover(bucket...bucket)
        counts[bucket - base] += count
    }

    mutating func merge(_ other: LatencySketch) {
        guard !other.counts.isEmpty else { return }
        if counts.isEmpty {
            // Into an empty sketch: share the other's buckets (copied only if added to).
            self = other
            return
        }
        if other.base < base || other.base + other.counts.count > base + counts.count {
            cover(other.base...(other.base + other.counts.count - 1))
        }
        let offset = other.base - base
        other.counts.withUnsafeBufferPointer { theirs in
            counts.withUnsafeMutableBufferPointer { mine in
                // `cover` made room: their span lies inside ours from `offset`. Pointer steps
                // without overflow checks, so the compiler vectorizes the loop.
                guard let from = theirs.baseAddress, let first = mine.baseAddress, offset >= 0, offset + theirs.count <= mine.count else { return }
                let to = first + offset
                for i in 0..<theirs.count { to[i] &+= from[i] }
            }
        }
    }

    /// Widens the dense span to hold `buckets` and, on each side it grows, half its width
    /// again and a few more (the slow path of adding and merging).
    @inline(never)
    private mutating func cover(_ buckets: ClosedRange<Int>) {
        if counts.isEmpty {
            // A first span of three octaves around the first latency (16 buckets an octave):
            // most latencies of a group fall within it.
            base = Swift.max(0, buckets.lowerBound - 16)
            counts = Array(repeating: 0, count: Swift.min(Self.maxBucket, buckets.upperBound + 32) - base + 1)
            return
        }
        let lower = Swift.min(base, buckets.lowerBound)
        let upper = Swift.max(base + counts.count - 1, buckets.upperBound)
        let slack = (upper - lower + 1) / 2 + 4
        if buckets.lowerBound < base {
            let newBase = Swift.max(0, lower - slack)
            counts.insert(contentsOf: repeatElement(0, count: base - newBase), at: 0)
            base = newBase
        }
        let end = base + counts.count
        if buckets.upperBound >= end { counts += repeatElement(0, count: Swift.min(Self.maxBucket, upper + slack) + 1 - end) }
    }

    /// Non-empty buckets with their counts, in bucket order.
    var buckets: [(bucket: UInt16, count: UInt64)] { occupied.map { (UInt16($0.bucket), $0.count) } }

    /// Writes how many buckets hold counts, then each of them (bucket, count) in order: a
    /// rollup row's sketch, as ``buckets`` lists it. With `gaps` (index format 5) a bucket is
    /// written as the number of buckets skipped since the last one (one byte, nearly always).
    func encodeBuckets<S: ByteSink>(to w: inout S, gaps: Bool = true) {
        counts.withUnsafeBufferPointer { counts in
            var occupied = 0
            for i in 0..<counts.count { occupied &+= counts[i] > 0 ? 1 : 0 }
            w.appendVarint(UInt64(occupied))
            var previous = -1
            for i in 0..<counts.count where counts[i] > 0 {
                w.appendVarint(UInt64(gaps ? base + i - previous - 1 : base + i))
                previous = base + i
                w.appendVarint(counts[i])
            }
        }
    }

    /// At most the bytes ``encodeBuckets(to:)`` writes: a count, and per bucket a varint of
    /// at most 10 bytes for each of its two numbers.
    var encodedBound: Int { 10 + 20 * counts.count }

    /// The `q`-quantile (0...1) by nearest rank, nil when empty.
    func quantile(_ q: Double) -> Int64? {
        let total = counts.reduce(UInt64(0)) { $0 &+ $1 }
        guard total > 0 else { return nil }
        let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, count) in counts.enumerated() {
            seen &+= count
            if seen >= rank { return Self.value(of: UInt16(base + i)) }
        }
        return nil
    }
}

/// Sums over a set of records: what usage reports and rollups keep. Exact: integer sums only.
///
/// Sums of tokens, cost and latency are 128-bit: one event may carry up to 2⁶³ − 1 of each (a
/// log written before the limits of ``EventLimits`` may hold such events), and no number of
/// them can overflow the sum. Counts are bounded by the number of records.
struct UsageAggregate: Hashable, Sendable {
    var requests: Int64 = 0
    var tokensIn: Int128 = 0
    var tokensOut: Int128 = 0
    var costNanos: Int128 = 0
    var cacheHits: Int64 = 0
    var blocked: Int64 = 0
    var redacted: Int64 = 0
    var escalated: Int64 = 0
    /// Records with a latency, and the sum of their latencies.
    var latencyCount: Int64 = 0
    var latencySumMicros: Int128 = 0
    var sketch = LatencySketch()

    mutating func add(verdict: UInt8, cacheHit: UInt8, tokensIn tIn: Int64, tokensOut tOut: Int64, costNanos cost: Int64, latencyMicros latency: Int64) {
        add(Contribution(verdict: verdict, cacheHit: cacheHit, tokensIn: tIn, tokensOut: tOut, costNanos: cost, latencyMicros: latency))
    }

    /// What one record adds to every aggregate it counts in, worked out once (rollups add each
    /// record to a row of every dimension).
    struct Contribution {
        var tokensIn: Int64
        var tokensOut: Int64
        var costNanos: Int64
        var cacheHit: Int64
        var blocked: Int64
        var redacted: Int64
        var escalated: Int64
        /// -1 without a latency.
        var latencyMicros: Int64

        /// A record's values as index columns hold them: verdict code (0 none), cache hit (0
        /// none, 1 false, 2 true), and -1 for an absent number.
        init(verdict: UInt8, cacheHit: UInt8, tokensIn: Int64, tokensOut: Int64, costNanos: Int64, latencyMicros: Int64) {
            self.tokensIn = max(0, tokensIn)
            self.tokensOut = max(0, tokensOut)
            self.costNanos = max(0, costNanos)
            self.cacheHit = cacheHit == 2 ? 1 : 0
            blocked = verdict == Verdict.block.code ? 1 : 0
            redacted = verdict == Verdict.redact.code ? 1 : 0
            escalated = verdict == Verdict.escalate.code ? 1 : 0
            self.latencyMicros = latencyMicros
        }

        /// Record `i` of index columns (which must hold verdicts, cache hits and metrics).
        @inline(__always)
        init(_ c: IndexColumns, _ i: Int) {
            self.init(
                verdict: c.verdicts[i], cacheHit: c.cacheHits[i], tokensIn: c.tokensIn[i], tokensOut: c.tokensOut[i],
                costNanos: c.costNanos[i], latencyMicros: c.latencyMicros[i])
        }
    }

    /// Adds a record's contribution: the one place a record's values are summed.
    mutating func add(_ one: Contribution) {
        addSums(one)
        // Its latency's bucket is worked out here, not with the sums: rollups, which add each
        // record to a row of every dimension, fill their sketches apart.
        if one.latencyMicros >= 0 { sketch.add(bucket: Int(LatencySketch.bucket(one.latencyMicros)), count: 1) }
    }

    /// Adds a record's contribution to every sum and count, not to the sketch (rollups fill
    /// their rows' sketches apart, each at its final size: ``IndexData/fillSketches``).
    mutating func addSums(_ one: Contribution) {
        requests += 1
        tokensIn += Int128(one.tokensIn)
        tokensOut += Int128(one.tokensOut)
        costNanos += Int128(one.costNanos)
        cacheHits += one.cacheHit
        blocked += one.blocked
        redacted += one.redacted
        escalated += one.escalated
        if one.latencyMicros >= 0 {
            latencyCount += 1
            latencySumMicros += Int128(one.latencyMicros)
        }
    }

    /// Adds record `i` of index columns (which must hold verdicts, cache hits and metrics).
    mutating func add(_ c: IndexColumns, _ i: Int) { add(Contribution(c, i)) }

    mutating func add(_ event: AuditEvent) {
        add(
            verdict: event.verdict?.code ?? 0, cacheHit: event.cacheHit.map { $0 ? 2 : 1 } ?? 0,
            tokensIn: event.tokensIn ?? -1, tokensOut: event.tokensOut ?? -1,
            costNanos: event.cost?.nanodollars ?? -1, latencyMicros: event.latencyMicros ?? -1)
    }

    mutating func merge(_ o: UsageAggregate) {
        requests += o.requests
        tokensIn += o.tokensIn
        tokensOut += o.tokensOut
        costNanos += o.costNanos
        cacheHits += o.cacheHits
        blocked += o.blocked
        redacted += o.redacted
        escalated += o.escalated
        latencyCount += o.latencyCount
        latencySumMicros += o.latencySumMicros
        sketch.merge(o.sketch)
    }

    /// The same aggregate with its sketch ``LatencySketch/compacted()`` (to be kept).
    func compacted() -> UsageAggregate {
        var out = self
        out.sketch = sketch.compacted()
        return out
    }

    /// Whether every sum fits the 63 bits a rollup row stores (docs/FORMAT.md, "Index file").
    var fitsRollupRow: Bool {
        let limit = Int128(Int64.max)
        return tokensIn <= limit && tokensOut <= limit && costNanos <= limit && latencySumMicros <= limit
    }

    /// Writes a rollup row's aggregate; the caller has checked ``fitsRollupRow``. `gaps` as
    /// ``LatencySketch/encodeBuckets(to:gaps:)`` takes it (false: index formats 1–4).
    /// (Written value by value, with no array of them: an index build writes thousands of rows.)
    func encode(to w: inout ByteWriter, gaps: Bool = true) {
        // Into room reserved at the end once a row, with one bounds check a write instead of an
        // array append's checks and calls: a segment's index has thousands of rows and some
        // hundred thousand sketch buckets. The bound holds every row; if it did not, the write
        // would be dropped and the row written again through the array.
        if !w.bytes.append(within: 100 + sketch.encodedBound, { encode(to: &$0, gaps: gaps) }) { encode(to: &w.bytes, gaps: gaps) }
    }

    private func encode<S: ByteSink>(to w: inout S, gaps: Bool) {
        w.appendVarint(UInt64(clamping: requests))
        w.appendVarint(UInt64(clamping: tokensIn))
        w.appendVarint(UInt64(clamping: tokensOut))
        w.appendVarint(UInt64(clamping: costNanos))
        w.appendVarint(UInt64(clamping: cacheHits))
        w.appendVarint(UInt64(clamping: blocked))
        w.appendVarint(UInt64(clamping: redacted))
        w.appendVarint(UInt64(clamping: escalated))
        w.appendVarint(UInt64(clamping: latencyCount))
        w.appendVarint(UInt64(clamping: latencySumMicros))
        sketch.encodeBuckets(to: &w, gaps: gaps)
    }

    /// Reads a rollup row's aggregate. Every count is checked against `recordCount` (the
    /// segment's records), so rows from a damaged or forged index can never make a later sum
    /// overflow or a percentile run past its buckets.
    /// `gaps`: buckets as ``LatencySketch/encodeBuckets(to:gaps:)`` writes them (format 5).
    static func decode(from r: inout ByteReader, recordCount: UInt64, gaps: Bool = true) throws(FormatError) -> UsageAggregate {
        var values: [Int64] = []
        let start = r.offset
        for _ in 0..<10 {
            let v = try r.readVarint("aggregate")
            guard v <= UInt64(Int64.max) else { throw FormatError(.malformed, "aggregate out of range", offset: r.offset) }
            values.append(Int64(v))
        }
        var a = UsageAggregate(
            requests: values[0], tokensIn: Int128(values[1]), tokensOut: Int128(values[2]), costNanos: Int128(values[3]), cacheHits: values[4],
            blocked: values[5], redacted: values[6], escalated: values[7], latencyCount: values[8], latencySumMicros: Int128(values[9]))
        let counts = [a.cacheHits, a.blocked, a.redacted, a.escalated, a.latencyCount]
        guard a.requests >= 1, UInt64(a.requests) <= recordCount, counts.allSatisfy({ $0 <= a.requests }) else {
            throw FormatError(.malformed, "rollup row counts \(a.requests) requests of a segment of \(recordCount) records", offset: start)
        }
        let buckets = try r.readVarint("sketch size")
        guard buckets <= UInt64(LatencySketch.maxBucket + 1) else { throw FormatError(.malformed, "sketch of \(buckets) buckets", offset: r.offset) }
        var total: UInt64 = 0
        var previous = -1
        var pairs: [(bucket: Int, count: UInt64)] = []
        pairs.reserveCapacity(Int(buckets))
        for _ in 0..<buckets {
            let read = try r.readVarint("bucket")
            let c = try r.readVarint("count")
            // A gap past the last bucket is refused before it is added to anything.
            guard read <= UInt64(LatencySketch.maxBucket) else { throw FormatError(.malformed, "sketch bucket out of range", offset: r.offset) }
            let b = gaps ? UInt64(previous + 1) + read : read
            guard b <= UInt64(LatencySketch.maxBucket), Int(b) > previous, c >= 1, c <= UInt64(a.latencyCount) else {
                throw FormatError(.malformed, "sketch bucket out of range", offset: r.offset)
            }
            previous = Int(b)
            total += c
            guard total <= UInt64(a.latencyCount) else { throw FormatError(.malformed, "sketch holds more latencies than the row", offset: r.offset) }
            pairs.append((Int(b), c))
        }
        a.sketch = LatencySketch(ascending: pairs)
        guard total == UInt64(a.latencyCount) else { throw FormatError(.malformed, "sketch holds \(total) latencies, the row \(a.latencyCount)", offset: r.offset) }
        return a
    }
}
