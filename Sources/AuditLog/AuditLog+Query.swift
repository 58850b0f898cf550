/// Queries, point lookups and usage over the log's indexes.
extension AuditLog {
    /// The records matching `query`, streamed in its order. Exactly what a full scan would
    /// return; only the records that pass the index columns are decoded.
    /// Index columns, frames and records are read off the caller's executor, a batch of
    /// records at a time.
    public func query(_ query: Query) -> some AsyncSequence<Record, AuditLogError> & Sendable {
        let context = self.context
        let segments = snapshot.segments
        return RecordStream { () throws(AuditLogError) in try QueryIterator(context, segments: segments, query: query) }
    }

    /// A synchronous iterator over `query`'s results as of now, for blocking paths (pages,
    /// exports, the adapters' streams): it reads on the calling thread.
    package func queryIterator(_ query: Query) throws(AuditLogError) -> QueryIterator {
        LibraryMetrics.query()
        return try QueryIterator(context, segments: snapshot.segments, query: query)
    }

    /// Runs `body` on the I/O executor with an iterator over `query`'s results as of now.
    func reading<T: Sendable>(_ query: Query, _ body: @escaping @Sendable (QueryIterator) throws(AuditLogError) -> T) async throws(AuditLogError) -> T {
        let context = self.context
        let segments = snapshot.segments
        return try await BlockingIO.run { () throws(AuditLogError) in
            try body(try QueryIterator(context, segments: segments, query: query))
        }
    }

    /// Every record `query` matches, read off the caller's executor.
    func collect(_ query: Query) async throws(AuditLogError) -> [Record] {
        try await reading(query) { (iterator) throws(AuditLogError) in
            var records: [Record] = []
            while let r = try iterator.next() { records.append(r) }
            return records
        }
    }

    /// One page of `query` (at most its limit, default 50) and the cursor for the next.
    public func page(_ query: Query) async throws(AuditLogError) -> QueryPage {
        try await reading(Self.page(query)) { (iterator) throws(AuditLogError) in
            var records: [Record] = []
            while let r = try iterator.next() { records.append(r) }
            return QueryPage(records: records, nextCursor: iterator.nextCursor)
        }
    }

    /// One page of `query` (at most its limit, default 50) as a JSON array of events, each
    /// with its seq: the bytes ``page(_:)``'s records render to (``AuditEvent/appendJSON(to:seq:)``),
    /// transcoded straight from the stored records when the index columns decide the filter.
    package func pageJSON(_ query: Query) async throws(AuditLogError) -> QueryJSONPage {
        try await reading(Self.page(query)) { (iterator) throws(AuditLogError) in
            var json: [UInt8] = [UInt8(ascii: "[")]
            var count = 0
            while true {
                let mark = json.count
                if count > 0 { json.append(UInt8(ascii: ",")) }
                guard try iterator.nextJSON(into: &json) else {
                    json.removeSubrange(mark...)
                    break
                }
                count += 1
            }
            json.append(UInt8(ascii: "]"))
            return QueryJSONPage(json: json, count: count, nextCursor: iterator.nextCursor)
        }
    }

    /// `query` limited to a page: its own limit, or 50.
    private static func page(_ query: Query) -> Query {
        var limited = query
        limited.limit = limited.limit ?? 50
        return limited
    }

    /// The event with this id, anywhere in the log, or nil.
    public func event(id: String) async throws(AuditLogError) -> Record? {
        let segments = snapshot.segments
        let context = self.context
        return try await BlockingIO.run { () throws(AuditLogError) in
            let hash = RecordFacts.idHash(id)
            for segment in segments.reversed() where segment.recordCount > 0 {
                let view = try context.indexes.view(segment, parts: [.ids])
                guard let ordinals = view.ids?.ordinals(matching: hash), !ordinals.isEmpty else { continue }
                let fetcher = RecordFetcher(context, view: view, budget: context.frames.budget(bounded: true))
                fetcher.expect(ordinals)
                for ordinal in ordinals {
                    let event = try fetcher.event(at: ordinal)
                    if event.id == id { return Record(seq: SequenceNumber(segment.firstSeq.rawValue + UInt64(ordinal)), event: event) }
                }
            }
            return nil
        }
    }

    /// Usage per group over `window`: requests, tokens, exact cost, cache hits, blocked,
    /// redacted and escalated counts, average and p95 latency. Group by up to any keys of
    /// ``UsageGroup`` (e.g. `[.team, .model]` or `[.day, .user]`).
    public func usage(
        window: TimeWindow = .all, groupBy: [UsageGroup] = [], filter: EventFilter = EventFilter(), columns: UsageColumns = []
    ) async throws(AuditLogError) -> UsageReport {
        let segments = snapshot.segments
        let context = self.context
        return try await BlockingIO.run { () throws(AuditLogError) in
            try UsageEngine.run(context, segments: segments, window: window, groupBy: groupBy, filter: filter, columns: columns)
        }
    }

    /// The groups of ``usage(window:groupBy:filter:columns:)`` before they become rows (a fleet
    /// sums its nodes' exactly).
    func usagePartial(window: TimeWindow, groupBy: [UsageGroup], filter: EventFilter, columns: UsageColumns) async throws(AuditLogError) -> UsageEngine.Partial {
        let segments = snapshot.segments
        let context = self.context
        return try await BlockingIO.run { () throws(AuditLogError) in
            try UsageEngine.partial(context, segments: segments, window: window, groupBy: groupBy, filter: filter, columns: columns)
        }
    }

    /// Index files rebuilt because they were missing, stale or damaged.
    package var indexRebuilds: [IndexRebuild] { indexes.rebuilds }
}

/// Where a record is stored, and the chain value after it.
package struct RecordLocation: Hashable, Sendable {
    /// The segment file, relative to the log directory.
    package var file: String
    /// File offset of the frame holding the record.
    package var frameOffset: Int64
    /// `h(seq)`: the hash-chain value after the record.
    package var chainValue: ChainHash
}

/// The state of a segment's index.
package enum IndexState: Hashable, Sendable {
    /// A valid index file (header checked against the segment).
    case file
    /// No index file (yet): it is rebuilt from the segment when needed.
    case missing
    /// An index file that is stale or damaged: it is rebuilt from the segment when needed.
    case invalid(String)
    /// The active segment: indexed in memory.
    case memory
}

extension AuditLog {
    /// The file and frame holding `seq` and the chain value after it (recomputed from the
    /// frame's predecessor), or nil when the log holds no such seq.
    package func location(of seq: SequenceNumber) async throws(AuditLogError) -> RecordLocation? {
        let segments = snapshot.segments
        let files = self.files
        return try await BlockingIO.run { () throws(AuditLogError) -> RecordLocation? in
            guard let segment = segments.last(where: { $0.firstSeq <= seq }), let last = segment.lastSeq, seq <= last else { return nil }
            try segment.checkReadable()
            let walker = try SegmentWalker(files, segment.fileName, limit: segment.dataEnd)
            var chain = walker.header.anchor
            while true {
                switch try walker.next(.skip) {
                case .frame(let h, let offset):
                    guard seq <= h.lastSeq else {
                        chain = h.chainAfter
                        continue
                    }
                    _ = try walker.frame(at: offset, firstSeq: h.firstSeq, count: h.recordCount, length: Int64(h.frameLengthBytes))
                    walker.forEachRecord { s, record in
                        if s <= seq { chain = chain.chained(seq: s, record: record) }
                    }
                    return RecordLocation(file: walker.displayName, frameOffset: offset, chainValue: chain)
                case .damage(let damage):
                    throw damage.error(in: walker.displayName)
                case .end, .footer, .tornTail:
                    return nil
                }
            }
        }
    }

    /// Whether `segment` has a valid index file.
    package func indexState(of segment: SegmentInfo) -> IndexState {
        indexes.state(of: segment)
    }

    /// The format version in `segment`'s header — 1: row frames only; 2: column frames as well
    /// (docs/FORMAT.md) — read from the file, or from the archive receipt of an evicted one;
    /// nil for a damaged segment or a header that cannot be read.
    package func formatVersion(of segment: SegmentInfo) -> Int? {
        guard segment.damage == nil else { return nil }
        return try? Int(SegmentWalker(files, segment.fileName).header.version)
    }
}
