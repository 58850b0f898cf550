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

    init(_ filter: EventFilter, view: IndexView) {
        residual.search = filter.searchBytes
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
                var codes: Set<UInt32> = test.passes(nil) ? [0] : []
                for (i, value) in view.dictionaries[column].enumerated() where test.passes(value) { codes.insert(UInt32(i + 1)) }
                if codes.isEmpty { isImpossible = true }
                let all = view.dictionaries[column].count + 1
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

    /// Appends to `out`, ascending, the ordinals of `range` whose time (in `times`) is in
    /// `window` and whose columns pass the filter (the residual conditions are not tested). An
    /// unbounded window tests no time, and then `times` is not read (records wholly inside the
    /// query's window).
    func collect(_ c: IndexColumns, _ range: Range<Int>, window: TimeWindow, times: TimeColumn?, into out: inout [Int]) {
        let start = out.count
        let since = window.since?.nanosSinceEpoch ?? .min
        // `until` is exclusive; a window ending at the smallest time holds nothing.
        if let until = window.until?.nanosSinceEpoch, until == .min { return }
        let last = window.until.map { $0.nanosSinceEpoch - 1 } ?? .max
        let timed = window.since != nil || window.until != nil
        let base = times?.base ?? 0
        let ts = times?.values ?? []
        // The most selective test first: a dictionary column when there is one.
        var dimTests = dims
        if let first = dimTests.first {
            dimTests.removeFirst()
            Self.select(c.dims[first.field], first.codes, negated: first.negated, range, into: &out)
            if timed {
                ts.withUnsafeBufferPointer { ts in
                    Self.keep(&out, from: start) { ts[$0 - base] >= since && ts[$0 - base] <= last }
                }
            }
        } else if timed {
            ts.withUnsafeBufferPointer { ts in
                for i in range where ts[i - base] >= since && ts[i - base] <= last { out.append(i) }
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
    private static func select(_ column: [UInt32], _ codes: Set<UInt32>, negated: Bool, _ range: Range<Int>, into out: inout [Int]) {
        column.withUnsafeBufferPointer { column in
            if codes.count == 1, let only = codes.first {
                for i in range where (column[i] == only) != negated { out.append(i) }
            } else {
                for i in range where codes.contains(column[i]) != negated { out.append(i) }
            }
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
/// a run at a time by ``SegmentPredicate/collect(_:_:window:times:into:)``: short runs first (a
/// newest-50 query stops early), longer ones as the scan goes on. A timed span's times are
/// asked for when the scan reaches it, so a query that stops early reads none of the spans it
/// never reached.
struct CandidateScan {
    private var spans: [ScanSpan] = []
    private var nextSpan = 0
    private var lower = 0
    private var upper = 0
    private var times: TimeColumn?
    private var forward = true
    private var run = CandidateScan.firstRun
    private var found: [Int] = []
    private var position = 0

    private static let firstRun = 512
    private static let longestRun = 16_384

    /// Starts over on the `spans` (ascending) of a new segment.
    mutating func reset(_ spans: [ScanSpan], forward: Bool) {
        self.spans = forward ? spans : spans.reversed()
        nextSpan = 0
        lower = 0
        upper = 0
        times = nil
        self.forward = forward
        run = Self.firstRun
        found.removeAll(keepingCapacity: true)
        position = 0
    }

    /// The next candidate ordinal, nil when the segment has no more. `timesOf` gives the
    /// times of a timed span's ordinals, once, when the scan enters it.
    mutating func next(
        _ columns: IndexColumns, _ predicate: SegmentPredicate, window: TimeWindow, timesOf: (Range<Int>) throws(AuditLogError) -> TimeColumn
    ) throws(AuditLogError) -> Int? {
        while position == found.count {
            if lower >= upper {
                guard nextSpan < spans.count else { return nil }
                let span = spans[nextSpan]
                nextSpan += 1
                lower = span.range.lowerBound
                upper = span.range.upperBound
                times = span.timed ? try timesOf(span.range) : nil
                continue
            }
            let n = min(run, upper - lower)
            let range = forward ? lower..<(lower + n) : (upper - n)..<upper
            if forward { lower += n } else { upper -= n }
            run = min(run * 2, Self.longestRun)
            found.removeAll(keepingCapacity: true)
            position = 0
            predicate.collect(columns, range, window: times == nil ? TimeWindow() : window, times: times, into: &found)
            if !forward { found.reverse() }
        }
        defer { position += 1 }
        return found[position]
    }
}
