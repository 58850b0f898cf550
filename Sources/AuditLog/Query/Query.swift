/// A query for events: a window of event time, filters, an order, a limit and a cursor.
///
/// Results are exactly the records a full scan in seq order would return, filtered the same
/// way (``EventFilter/matches(_:)``), oldest or newest first.
public struct Query: Hashable, Sendable {
    /// `[since, until)` on event time.
    public var window: TimeWindow
    /// Which events.
    public var filter: EventFilter
    /// Oldest first (export) or newest first (tail). Order is by seq, i.e. append order.
    public var order: ReadOrder
    /// At most this many records (nil: all).
    public var limit: Int?
    /// Resume after the last record of a previous page (``QueryPage/nextCursor``).
    public var cursor: String?

    public init(window: TimeWindow = .all, filter: EventFilter = EventFilter(), order: ReadOrder = .newestFirst, limit: Int? = nil, cursor: String? = nil) {
        self.window = window
        self.filter = filter
        self.order = order
        self.limit = limit
        self.cursor = cursor
    }

    /// A cursor that resumes a query of this `order` just after `seq` (oldest first: the
    /// records after it; newest first: the records before it).
    package static func cursor(after seq: SequenceNumber, order: ReadOrder) -> String {
        QueryCursor.encode(seq: seq, order: order)
    }

    /// The reference predicate (window and filter) the engine's answers equal.
    package func matches(_ event: AuditEvent) -> Bool {
        window.contains(event.timestamp.nanosSinceEpoch) && filter.matches(event)
    }
}

/// The opaque resume token of a query: the last seq returned and the order it was read in.
enum QueryCursor {
    static func encode(seq: SequenceNumber, order: ReadOrder) -> String {
        "c1" + (order == .oldestFirst ? "o" : "n") + String(seq.rawValue, radix: 36)
    }

    static func decode(_ text: String, order: ReadOrder) throws(AuditLogError) -> SequenceNumber {
        let chars = Array(text)
        // Seqs are at most 2⁶³ − 1: a larger one is no cursor this log issued (and would trap the
        // arithmetic on ordinals).
        guard chars.count > 3, text.hasPrefix("c1"), let value = UInt64(String(chars[3...]), radix: 36), value <= UInt64(Int64.max) else {
            throw AuditLogError(.invalidArgument, "cursor '\(text)' is not one this log issued")
        }
        guard chars[2] == (order == .oldestFirst ? "o" : "n") else {
            throw AuditLogError(.invalidArgument, "cursor '\(text)' belongs to a query in the other order")
        }
        return SequenceNumber(value)
    }
}

/// Runs a ``Query`` over a snapshot of the log: picks the segments whose event-time range
/// overlaps the window, tests index columns, and decodes only the records that pass (one frame
/// at a time). Synchronous and single-consumer: ``AuditLog/query(_:)`` streams it in batches
/// read on ``BlockingIO``; the adapters page and export with it directly.
package final class QueryIterator {
    private let context: LogReadContext
    private let query: Query
    private let segments: [SegmentInfo]
    private var segmentPosition = 0
    private var scan = CandidateScan()
    /// The scan's run whose frames were last prefetched.
    private var prefetchedRun = 0
    private var view: IndexView?
    private var columns = IndexColumns()
    /// The open segment's columns when they load block by block (a page of a sealed segment
    /// whose columns are not in memory), with the parts they hold; then `columns` is unused.
    private var blocks: (columns: ColumnBlocks, parts: Set<IndexStore.Part>)?
    private var predicate: SegmentPredicate?
    private var fetcher: RecordFetcher?
    /// What this query may place in the frame cache (a run of an export shares its export's),
    /// made when a frame is first read.
    private lazy var cacheBudget = sharedBudget ?? context.frames.budget(for: query)
    private let sharedBudget: FrameCache.Budget?
    private var returned = 0
    private var lookahead: Record?
    /// A candidate found by looking one ahead on the JSON path (a match: that path runs only
    /// when the columns decide the whole filter).
    private var pendingOrdinal: Int?
    private var exhausted = false
    /// The seq of the record last returned.
    package private(set) var lastSeq: SequenceNumber?
    private let bound: SequenceNumber?
    /// The seqs this iterator is restricted to (a run of a parallel export), nil for all.
    private let seqs: ClosedRange<UInt64>?
    /// The index columns this query reads: timestamps and those its filter tests.
    private let columnParts: Set<IndexStore.Part>
    /// The same for a segment wholly inside the window, where no time needs testing: without
    /// timestamps (the verdicts, one byte a record, when the filter tests no column at all).
    private let coveredParts: Set<IndexStore.Part>
    /// Whether the open segment's timed spans read their times from the records (else from
    /// the timestamps column in `columns`).
    private var recordTimes = false
    /// Whether the filter tests fields without a column (then records must be decoded).
    private let needsEvent: Bool
    /// The filter as tests, worked out once (each segment's predicate starts from them).
    private let filterTests: FieldTests

    /// `seqs`: only these records (a run of an export), `budget`: what the query may place in
    /// the frame cache (by default as ``FrameCache/budget(for:)`` gives a query of its own).
    init(
        _ context: LogReadContext, segments: [SegmentInfo], query: Query, seqs: ClosedRange<UInt64>? = nil, budget: FrameCache.Budget? = nil
    ) throws(AuditLogError) {
        self.context = context
        self.query = query
        self.seqs = seqs
        sharedBudget = budget
        filterTests = FieldTests(query.filter)
        columnParts = filterTests.indexColumns.union([.timestamps])
        coveredParts = filterTests.indexColumns.isEmpty ? [.verdicts] : filterTests.indexColumns
        needsEvent = filterTests.needsEvent
        bound = try query.cursor.map { (c) throws(AuditLogError) in try QueryCursor.decode(c, order: query.order) }
        if let limit = query.limit, limit < 0 {
            throw AuditLogError(.invalidArgument, "limit must not be negative, got \(limit)")
        }
        let candidates = Self.segments(segments, overlapping: query.window)
        self.segments = query.order == .oldestFirst ? candidates : candidates.reversed()
    }

    /// The segments holding records whose event-time range overlaps `window`, in their order.
    static func segments(_ segments: [SegmentInfo], overlapping window: TimeWindow) -> [SegmentInfo] {
        segments.filter { s in
            guard s.recordCount > 0, let min = s.minTimestamp, let max = s.maxTimestamp else { return false }
            return window.overlaps(min: min.nanosSinceEpoch, max: max.nanosSinceEpoch)
        }
    }

    /// After the last record of a page: the cursor to fetch the next page with, nil when the
    /// query has no more results.
    package var nextCursor: String? {
        guard let lastSeq, lookahead != nil || pendingOrdinal != nil || !exhausted else { return nil }
        return QueryCursor.encode(seq: lastSeq, order: query.order)
    }

    /// The next matching record, or nil when there is none (or the limit is reached).
    package func next() throws(AuditLogError) -> Record? {
        if let ordinal = pendingOrdinal, let view {
            pendingOrdinal = nil
            lookahead = Record(seq: SequenceNumber(view.segment.firstSeq.rawValue + UInt64(ordinal)), event: try fetch(ordinal))
        }
        if let limit = query.limit, returned >= limit {
            // Look one ahead so that `nextCursor` can tell whether there is more: the next
            // candidate, when the index decides the filter (its record is not read); else the
            // next record that matches.
            if !needsEvent {
                if lookahead == nil && pendingOrdinal == nil && !exhausted {
                    pendingOrdinal = try nextCandidate()
                    if pendingOrdinal == nil { exhausted = true }
                }
                return nil
            }
            if lookahead == nil && !exhausted { lookahead = try advance() }
            if lookahead == nil { exhausted = true }
            return nil
        }
        let record: Record?
        if let held = lookahead {
            lookahead = nil
            record = held
        } else {
            record = try advance()
        }
        guard let record else {
            exhausted = true
            return nil
        }
        returned += 1
        lastSeq = record.seq
        return record
    }

    /// Appends the next matching record as JSON (with its seq) to `out`, straight from its
    /// stored bytes when the filter needs no decoded event; false at the end. The bytes equal
    /// `record.event.appendJSON(to:seq:)`.
    package func nextJSON(into out: inout [UInt8]) throws(AuditLogError) -> Bool {
        try nextTranscoded(
            into: &out,
            decoded: { record, out in record.event.appendJSON(to: &out, seq: record.seq) },
            stored: { (bytes, seq, out) throws(FormatError) in try RecordJSON.append(bytes, seq: seq, to: &out) })
    }

    /// Appends the next matching record as a CSV row to `out`, as ``nextJSON(into:)`` does
    /// JSON; `transcoder` keeps its buffers from row to row. The bytes equal
    /// ``CSVExport/append(_:to:)`` of the record.
    func nextCSV(into out: inout [UInt8], transcoder: inout RecordCSV) throws(AuditLogError) -> Bool {
        try nextTranscoded(
            into: &out,
            decoded: { record, out in CSVExport.append(record, to: &out) },
            stored: { (bytes, seq, out) throws(FormatError) in try transcoder.append(bytes, seq: seq, to: &out) })
    }

    /// The next match written by `stored` from its bytes, or by `decoded` from the event when
    /// the filter needs the event anyway.
    private func nextTranscoded(
        into out: inout [UInt8], decoded: (Record, inout [UInt8]) -> Void,
        stored: (UnsafeRawBufferPointer, SequenceNumber, inout [UInt8]) throws(FormatError) -> Void
    ) throws(AuditLogError) -> Bool {
        guard !needsEvent, lookahead == nil else {
            guard let record = try next() else { return false }
            decoded(record, &out)
            return true
        }
        if let limit = query.limit, returned >= limit {
            // Look one ahead (without decoding) so that `nextCursor` can tell whether there is more.
            if pendingOrdinal == nil && !exhausted {
                pendingOrdinal = try nextCandidate()
                if pendingOrdinal == nil { exhausted = true }
            }
            return false
        }
        let candidate: Int?
        if let pending = pendingOrdinal {
            pendingOrdinal = nil
            candidate = pending
        } else {
            candidate = try nextCandidate()
        }
        guard let i = candidate, let view else {
            exhausted = true
            return false
        }
        if fetcher == nil { fetcher = RecordFetcher(context, view: view, budget: cacheBudget) }
        let seq = SequenceNumber(view.segment.firstSeq.rawValue + UInt64(i))
        try fetcher?.withRecord(at: i, seq: seq) { (bytes) throws(FormatError) in try stored(bytes, seq, &out) }
        returned += 1
        lastSeq = seq
        return true
    }

    /// The stored bytes of the record `next()` or `nextJSON(into:)` just returned (seq
    /// `seq`), or nil when the iterator has moved past its segment.
    package func recordBytes(of seq: SequenceNumber) throws(AuditLogError) -> [UInt8]? {
        guard let view, seq >= view.segment.firstSeq, seq.rawValue - view.segment.firstSeq.rawValue < UInt64(view.segment.recordCount) else { return nil }
        if fetcher == nil { fetcher = RecordFetcher(context, view: view, budget: cacheBudget) }
        return try fetcher?.recordBytes(at: Int(seq.rawValue - view.segment.firstSeq.rawValue))
    }

    /// The next ordinal of the open segment whose index columns pass the window and the
    /// filter, opening the next segments as needed; nil when there is none.
    private func nextCandidate() throws(AuditLogError) -> Int? {
        while true {
            if let predicate {
                let found = try scan.next(
                    { (range) throws(AuditLogError) in try columns(over: range) }, predicate, window: query.window, recordTimes: recordTimes,
                    recordTime: { (i) throws(AuditLogError) in try openFetcher().timestamp(at: i) })
                if let i = found {
                    if scan.runs != prefetchedRun {
                        // A new run of candidates: their frames are asked of the disk at once.
                        prefetchedRun = scan.runs
                        let upcoming = scan.upcoming.prefix(query.limit ?? Int.max)
                        let fetcher = try openFetcher()
                        fetcher.expect(upcoming)
                        try fetcher.prefetch(upcoming)
                    }
                    return i
                }
            }
            guard try openNextSegment() else { return nil }
        }
    }

    deinit { giveBackBlocks() }

    /// Hands the blocks the open segment loaded to the index store, for the next page.
    private func giveBackBlocks() {
        if let blocks, let view { context.indexes.keep(blocks.columns, of: view.segment) }
        blocks = nil
    }

    /// The open segment's columns, valid over `range`. Damage found in a block loads the
    /// columns whole instead (which rebuilds a damaged index from its segment).
    private func columns(over range: Range<Int>) throws(AuditLogError) -> IndexColumns {
        guard let blocks else { return columns }
        do throws(AuditLogError) {
            try blocks.columns.ensure(range)
            return blocks.columns.columns
        } catch {
            guard let view else { throw error }
            self.blocks = nil
            columns = try context.indexes.view(view.segment, parts: blocks.parts).columns ?? IndexColumns()
            return columns
        }
    }

    private func advance() throws(AuditLogError) -> Record? {
        while let i = try nextCandidate(), let view, let predicate {
            let event = try fetch(i)
            guard predicate.residual.isEmpty || predicate.residual.matches(event) else { continue }
            return Record(seq: SequenceNumber(view.segment.firstSeq.rawValue + UInt64(i)), event: event)
        }
        return nil
    }

    private func fetch(_ ordinal: Int) throws(AuditLogError) -> AuditEvent {
        try openFetcher().event(at: ordinal)
    }

    private func openFetcher() throws(AuditLogError) -> RecordFetcher {
        if fetcher == nil, let view { fetcher = RecordFetcher(context, view: view, budget: cacheBudget) }
        guard let fetcher else { throw AuditLogError(.corruption, "no segment open") }
        return fetcher
    }

    private func openNextSegment() throws(AuditLogError) -> Bool {
        giveBackBlocks()
        view = nil
        predicate = nil
        fetcher = nil
        while segmentPosition < segments.count {
            let segment = segments[segmentPosition]
            segmentPosition += 1
            let first = segment.firstSeq.rawValue
            let count = Int(segment.recordCount)
            // The ordinals still to visit, after the cursor.
            var lower = 0
            var upper = count
            if let bound {
                if query.order == .oldestFirst {
                    lower = Int(max(0, Int64(bound.rawValue) - Int64(first) + 1))
                } else {
                    upper = Int(min(Int64(count), Int64(bound.rawValue) - Int64(first)))
                }
            }
            if let seqs {
                lower = Swift.max(lower, Int(Swift.max(0, Int64(seqs.lowerBound) - Int64(first))))
                upper = Swift.min(upper, Int(Swift.min(Int64(count), Int64(seqs.upperBound) - Int64(first) + 1)))
            }
            guard lower < upper else { continue }
            var covered = false
            if let min = segment.minTimestamp, let max = segment.maxTimestamp {
                covered = query.window.covers(min: min.nanosSinceEpoch, max: max.nanosSinceEpoch)
            }
            // A page (which may stop early) loads the columns of a sealed segment block by block.
            let blockwise = query.limit != nil
            func load(_ parts: Set<IndexStore.Part>) throws(AuditLogError) -> (IndexView, ColumnBlocks?) {
                blockwise ? try context.indexes.scanView(segment, parts: parts) : (try context.indexes.view(segment, parts: parts), nil)
            }
            var (v, b) = try load(coveredParts)
            var parts = coveredParts
            var spans = [ScanSpan(range: lower..<upper, timed: !covered)]
            recordTimes = false
            if !covered {
                // Frames outside the window are skipped and frames inside it need no time test;
                // the edge frames' times come from their records when those are few, else from
                // the timestamps column (also when it is in memory already).
                let plan = ScanPlan.spans(v.frames, of: segment, window: query.window, range: lower..<upper)
                spans = plan ?? spans
                let timed = ScanPlan.timedRecords(spans)
                let inMemory = v.columns?.timestamps.count == count
                recordTimes = plan != nil && !inMemory && ScanPlan.readsRecordTimes(timed: timed, of: count)
                if timed > 0 && !inMemory && !recordTimes {
                    (v, b) = try load(columnParts)
                    parts = columnParts
                }
            }
            guard !spans.isEmpty else { continue }
            let p = SegmentPredicate(filterTests, view: v)
            guard !p.isImpossible, let c = v.columns ?? b.map({ _ in IndexColumns() }) else { continue }
            view = v
            predicate = p
            columns = c
            blocks = b.map { ($0, parts) }
            scan.reset(spans, forward: query.order == .oldestFirst)
            return true
        }
        return false
    }
}

/// One page of results and the cursor for the next.
public struct QueryPage: Sendable, Hashable {
    /// The records, in query order.
    public var records: [Record]
    /// Pass as ``Query/cursor`` to get the next page; nil when there is none.
    public var nextCursor: String?
}

/// One page of results as JSON (``AuditLog/pageJSON(_:)``) and the cursor for the next.
package struct QueryJSONPage: Sendable, Hashable {
    /// A JSON array of the events, in query order, each with its `seq`.
    package var json: [UInt8]
    /// Events in the page.
    package var count: Int
    /// Pass as ``Query/cursor`` to get the next page; nil when there is none.
    package var nextCursor: String?
}
