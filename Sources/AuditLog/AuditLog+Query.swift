/// Queries, point lookups and usage over the log's indexes.
extension AuditLog {
    /// The records matching `query`, streamed in its order. Exactly what a full scan would
    /// return; only the records that pass the index columns are decoded.
    public func query(_ query: Query) -> QuerySequence {
        QuerySequence(paths: paths, store: indexes, segments: snapshot.segments, query: query)
    }

    /// One page of `query` (at most its limit, default 50) and the cursor for the next.
    public func page(_ query: Query) async throws(AuditLogError) -> QueryPage {
        var q = query
        q.limit = q.limit ?? 50
        let sequence = self.query(q)
        return try await Self.runBlocking { () throws(AuditLogError) in
            let iterator = try sequence.makeIterator()
            var records: [Record] = []
            while let r = try iterator.next() { records.append(r) }
            return QueryPage(records: records, nextCursor: iterator.nextCursor)
        }
    }

    /// The event with this id, anywhere in the log, or nil.
    public func event(id: String) async throws(AuditLogError) -> Record? {
        let segments = snapshot.segments
        let paths = self.paths
        let store = indexes
        return try await Self.runBlocking { () throws(AuditLogError) in
            let hash = RecordFacts.idHash(id)
            for segment in segments.reversed() where segment.recordCount > 0 {
                let view = try store.view(segment, parts: [.ids])
                guard let ordinals = view.ids?.ordinals(matching: hash), !ordinals.isEmpty else { continue }
                let fetcher = try RecordFetcher(paths: paths, view: view)
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
    public func usage(window: TimeWindow = .all, groupBy: [UsageGroup] = [], filter: EventFilter = EventFilter()) async throws(AuditLogError) -> UsageReport {
        let segments = snapshot.segments
        let paths = self.paths
        let store = indexes
        return try await Self.runBlocking { () throws(AuditLogError) in
            try UsageEngine.run(paths: paths, store: store, segments: segments, window: window, groupBy: groupBy, filter: filter)
        }
    }

    /// Index files rebuilt because they were missing, stale or damaged.
    public var indexRebuilds: [IndexRebuild] { indexes.rebuilds }
}
