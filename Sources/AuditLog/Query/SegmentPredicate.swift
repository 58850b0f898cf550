/// An ``EventFilter`` compiled against one segment's index: column tests for the indexed
/// fields, the rest left for the decoded record.
///
/// Queries test columns a run of ordinals at a time (``collect(_:_:window:into:)``): one tight
/// pass per condition over the run, so a selective filter (one user among thousands) costs a
/// compare per record, not a hash lookup.
struct SegmentPredicate {
    private var verdictMask: UInt8?
    private var cacheHitMask: UInt8?
    /// Per dictionary column, the codes that pass — or, when `negated`, the codes that do not
    /// (whichever set is smaller: a `!=` tests one code, not all the others).
    private var dims: [(field: Int, codes: Set<UInt32>, negated: Bool)] = []
    /// Conditions on fields without a column, and the search: checked on the decoded event.
    private(set) var residual = FieldTests()
    /// True when no record of the segment can match.
    private(set) var isImpossible = false

    /// `filter` as tests (``EventFilter/tests``, worked out once a query, not once a segment).
    init(_ filter: FieldTests, view: IndexView) {
        residual.search = filter.search
        for test in filter.tests {
            switch test.column {
            case .verdicts:
                // Code 0 is a record without a verdict.
                var mask: UInt8 = test.passes(nil) ? 1 : 0
                for verdict in Verdict.allCases where test.passes(verdict.rawValue) { mask |= 1 << verdict.code }
                verdictMask = (verdictMask ?? 0xFF) & mask
                if verdictMask == 0 { isImpossible = true }
            case .cacheHits:
                var mask: UInt8 = test.passes(nil) ? 1 : 0
                if test.passes("false") { mask |= 1 << 1 }
                if test.passes("true") { mask |= 1 << 2 }
                cacheHitMask = (cacheHitMask ?? 0xFF) & mask
                if cacheHitMask == 0 { isImpossible = true }
            case .dimension(let dimension):
                guard let column = dimension.column else {
                    residual.tests.append(test)
                    continue
                }
                // The dictionary is searched, not the records: an exact value, a prefix or
                // a "not" costs the same per record (a code compared).
                let values = view.dictionary(column)
                let codes = Self.codes(of: values, passing: test)
                if codes.isEmpty { isImpossible = true }
                let all = values.count + 1
                if codes.count > all / 2 {
                    let failing = Set((0..<UInt32(all)).filter { !codes.contains($0) })
                    dims.append((column, failing, true))
                } else {
                    dims.append((column, codes, false))
                }
            default:
                residual.tests.append(test)
            }
        }
    }

    var needsEvent: Bool { !residual.isEmpty }

    /// The codes of the values of a dictionary column that pass `test` (0: no value). Each value
    /// is compared as a `String` (by canonical equivalence, as ``EventFilter/matches(_:)`` does:
    /// a shortcut by UTF-8 length, tried, missed U+212A KELVIN SIGN for `K`).
    static func codes(of values: [String], passing test: FieldTest) -> Set<UInt32> {
        var codes: Set<UInt32> = []
        if test.passes(nil) { codes.insert(0) }
        for (i, value) in values.enumerated() where test.passes(value) { codes.insert(UInt32(i + 1)) }
        return codes
    }

    /// Appends to `out`, ascending, the ordinals of `range` whose time is in `window` and whose
    /// columns pass the filter (the residual conditions are not tested). An unbounded window
    /// tests no time, and then `c` need not hold timestamps (records wholly inside the query's
    /// window, or whose times are tested on their records).
    func collect(_ c: IndexColumns, _ range: Range<Int>, window: TimeWindow, into out: inout [Int]) {
        let start = out.count
        let since = window.since?.nanosSinceEpoch ?? .min
        // `until` is exclusive; a window ending at the smallest time holds nothing.
        if let until = window.until?.nanosSinceEpoch, until == .min { return }
        let last = window.until.map { $0.nanosSinceEpoch - 1 } ?? .max
        let timed = window.since != nil || window.until != nil
        // The most selective test first: a dictionary column when there is one.
        var dimTests = dims
        if let first = dimTests.first {
            dimTests.removeFirst()
            Self.select(c.dims[first.field], first.codes, negated: first.negated, range, into: &out)
            if timed {
                c.timestamps.withUnsafeBufferPointer { ts in
                    Self.keep(&out, from: start) { ts[$0] >= since && ts[$0] <= last }
                }
            }
        } else if timed {
            c.timestamps.withUnsafeBufferPointer { ts in
                for i in range where ts[i] >= since && ts[i] <= last { out.append(i) }
            }
        } else {
            out.append(contentsOf: range)
        }
        if let verdictMask {
            c.verdicts.withUnsafeBufferPointer { v in Self.keep(&out, from: start) { verdictMask & (1 << v[$0]) != 0 } }
        }
        if let cacheHitMask {
            c.cacheHits.withUnsafeBufferPointer { v in Self.keep(&out, from: start) { cacheHitMask & (1 << v[$0]) != 0 } }
        }
        for (field, codes, negated) in dimTests {
            c.dims[field].withUnsafeBufferPointer { column in
                if codes.count == 1, let only = codes.first {
                    Self.keep(&out, from: start) { (column[$0] == only) != negated }
                } else {
                    Self.keep(&out, from: start) { codes.contains(column[$0]) != negated }
                }
            }
        }
    }

    /// Appends the ordinals of `range` whose code in `column` is one of `codes` (none of them,
    /// when `negated`).
    static func select(_ column: [UInt32], _ codes: Set<UInt32>, negated: Bool, _ range: Range<Int>, into out: inout [Int]) {
        column.withUnsafeBufferPointer { column in
            if codes.count == 1, let only = codes.first {
                select(column, only, negated: negated, range, into: &out)
            } else {
                for i in range where codes.contains(column[i]) != negated { out.append(i) }
            }
        }
    }

    /// One code: eight codes compared at once, and only a group holding a match looked into
    /// (one user among thousands matches a few records in a thousand).
    private static func select(_ column: UnsafeBufferPointer<UInt32>, _ only: UInt32, negated: Bool, _ range: Range<Int>, into out: inout [Int]) {
        guard let base = UnsafeRawPointer(column.baseAddress), range.upperBound <= column.count else { return }
        let needle = SIMD8<UInt32>(repeating: only)
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let codes = base.loadUnaligned(fromByteOffset: i * MemoryLayout<UInt32>.stride, as: SIMD8<UInt32>.self)
            let hits = negated ? .!(codes .== needle) : codes .== needle
            if any(hits) {
                for lane in 0..<8 where hits[lane] { out.append(i + lane) }
            }
            i += 8
        }
        while i < range.upperBound {
            if (column[i] == only) != negated { out.append(i) }
            i += 1
        }
    }

    /// Keeps, among `out[from...]`, the ordinals that pass `test`, in order.
    @inline(__always)
    private static func keep(_ out: inout [Int], from start: Int, _ test: (Int) -> Bool) {
        var kept = start
        for j in start..<out.count where test(out[j]) {
            out[kept] = out[j]
            kept += 1
        }
        out.removeSubrange(kept...)
    }
}

/// The ordinals of one segment a query visits, in its order, span by span (``ScanPlan``), found
/// a run at a time by ``SegmentPredicate/collect(_:_:window:into:)``: short runs first (a
/// newest-50 query stops early), longer ones as the scan goes on. In a timed span whose times
/// are not in the columns, the columns are tested first and the time only of the records that
/// pass, read from the records themselves (so a selective filter reads few of them).
struct CandidateScan {
    private var spans: [ScanSpan] = []
    private var nextSpan = 0
    private var lower = 0
    private var upper = 0
    private var timed = false
    private var forward = true
    private var run = CandidateScan.firstRun
    private var found: [Int] = []
    private var position = 0
    /// How many runs the scan has collected, over all segments: it changes when ``upcoming``
    /// holds a new run's candidates.
    private(set) var runs = 0

    /// The candidate ``next`` returned last and those it returns after it from the current run.
    var upcoming: ArraySlice<Int> { found[Swift.max(0, position - 1)...] }

    private static let firstRun = 512
    private static let longestRun = 16_384

    /// Starts over on the `spans` (ascending) of a new segment.
    mutating func reset(_ spans: [ScanSpan], forward: Bool) {
        self.spans = forward ? spans : spans.reversed()
        nextSpan = 0
        lower = 0
        upper = 0
        timed = false
        self.forward = forward
        run = Self.firstRun
        found.removeAll(keepingCapacity: true)
        position = 0
    }

    /// The next candidate ordinal, nil when the segment has no more. `columns(range)` gives
    /// columns valid over `range` (loading their blocks). With `recordTimes`, a timed span's
    /// times come from `recordTime(ordinal)`; else from the timestamps column.
    mutating func next(
        _ columns: (Range<Int>) throws(AuditLogError) -> IndexColumns, _ predicate: SegmentPredicate, window: TimeWindow, recordTimes: Bool,
        recordTime: (Int) throws(AuditLogError) -> Int64
    ) throws(AuditLogError) -> Int? {
        while position == found.count {
            if lower >= upper {
                guard nextSpan < spans.count else { return nil }
                let span = spans[nextSpan]
                nextSpan += 1
                lower = span.range.lowerBound
                upper = span.range.upperBound
                timed = span.timed
                continue
            }
            let n = min(run, upper - lower)
            let range = forward ? lower..<(lower + n) : (upper - n)..<upper
            if forward { lower += n } else { upper -= n }
            run = min(run * 2, Self.longestRun)
            found.removeAll(keepingCapacity: true)
            position = 0
            runs += 1
            let c = try columns(range)
            if timed && recordTimes {
                predicate.collect(c, range, window: TimeWindow(), into: &found)
                var kept = 0
                for j in found.indices where window.contains(try recordTime(found[j])) {
                    found[kept] = found[j]
                    kept += 1
                }
                found.removeSubrange(kept...)
            } else {
                predicate.collect(c, range, window: timed ? window : TimeWindow(), into: &found)
            }
            if !forward { found.reverse() }
        }
        defer { position += 1 }
        return found[position]
    }
}
