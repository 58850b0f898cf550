/// Retention without compaction: whole sealed segments are deleted, never rewritten, and the
/// deletion is itself recorded in the chain first (DESIGN.md, "Retention without compaction").
extension AuditLog {
    /// Applies `policy`: appends one `retention.sweep` record naming every removed seq range
    /// (with the chain values around it and the files), makes it durable, then deletes the
    /// segment and index files. A crash at any point leaves a log that opens and verifies;
    /// running the sweep again finishes the job without recording it twice.
    ///
    /// Sweeps and hold changes of one handle run one at a time.
    public func sweep(_ policy: RetentionPolicy, actor: String, reason: String? = nil, now: Timestamp = .now, dryRun: Bool = false) async throws(AuditLogError) -> SweepReport {
        try await retentionGate.run { () async throws(AuditLogError) -> SweepReport in
            try await sweepNow(policy, actor: actor, reason: reason, now: now, dryRun: dryRun)
        }
    }

    private func sweepNow(_ policy: RetentionPolicy, actor: String, reason: String?, now: Timestamp, dryRun: Bool) async throws(AuditLogError) -> SweepReport {
        guard options.access == .readWrite else {
            throw AuditLogError(.invalidArgument, "sweeping needs the log open for writing", location: .init(file: directory))
        }
        if let maxAge = policy.maxAgeNanos, maxAge < 0 {
            throw AuditLogError(.invalidArgument, "a retention policy's maximum age must not be negative, got \(maxAge) ns")
        }
        if let maxBytes = policy.maxTotalBytes, maxBytes < 0 {
            throw AuditLogError(.invalidArgument, "a retention policy's maximum size must not be negative, got \(maxBytes) bytes")
        }
        let segments = snapshot.segments
        let holdRecords = try await self.holdRecords()
        let holds = holdRecords.inForce
        let records = try await sweepRecords()
        let recorded = Self.distinct(records.flatMap(\.ranges))
        // The holds that keep a segment: those covering its events, and those whose records it
        // holds (the segments holding the records of active holds are kept as well).
        func holding(_ s: SegmentInfo) -> [String] {
            guard let min = s.minTimestamp, let max = s.maxTimestamp else { return [] }
            return holds.filter { s.holds($0.seq) || $0.covers(minNanos: min.nanosSinceEpoch, maxNanos: max.nanosSinceEpoch) }.map(\.id)
        }
        let deletable = segments.dropLast().filter { $0.isSealed && $0.recordCount > 0 }
        var remove: [SegmentInfo] = []
        var kept: [KeptSegment] = []
        func keepIfHeld(_ s: SegmentInfo) -> Bool {
            let ids = holding(s)
            if !ids.isEmpty { kept.append(KeptSegment(segment: s, holds: ids)) }
            return !ids.isEmpty
        }
        if let maxAge = policy.maxAgeNanos {
            let cutoff = (now - .nanoseconds(maxAge)).nanosSinceEpoch
            for s in deletable where (s.maxTimestamp?.nanosSinceEpoch ?? .max) < cutoff {
                if !keepIfHeld(s) { remove.append(s) }
            }
        }
        // By size: the oldest deletable segments go while the log is larger than the policy
        // allows — again after segments are kept for releases (below), until it is not.
        func removeBySize() {
            guard let maxBytes = policy.maxTotalBytes else { return }
            var total = segments.reduce(Int64(0)) { $0 + $1.bytes } - remove.reduce(Int64(0)) { $0 + $1.bytes }
            for s in deletable where total > maxBytes && !remove.contains(s) && !kept.contains(where: { $0.segment == s }) {
                if keepIfHeld(s) { continue }
                remove.append(s)
                total -= s.bytes
            }
        }
        removeBySize()
        // A release stays while its hold's placement does: without it the hold would be in
        // force again (its `hold.placed` record naming no end). A segment kept for a release
        // may hold another hold's placement, whose release then stays too: until none moves.
        while true {
            let pinned = holdRecords.placed.compactMap { hold -> (id: String, release: SequenceNumber)? in
                guard let release = holdRecords.releasedAt[hold.id], !remove.contains(where: { $0.holds(hold.seq) }) else { return nil }
                return (hold.id, release)
            }
            let stay = remove.filter { s in pinned.contains { s.holds($0.release) } }
            guard !stay.isEmpty else { break }
            remove.removeAll { stay.contains($0) }
            for s in stay {
                kept.append(KeptSegment(segment: s, holds: [], releases: pinned.filter { s.holds($0.release) }.map(\.id)))
            }
            removeBySize()
        }
        kept.sort { $0.segment.firstSeq < $1.segment.firstSeq }
        remove.sort { $0.firstSeq < $1.firstSeq }
        let removedNames = Set(remove.map(\.fileName))
        let remaining = segments.filter { !removedNames.contains($0.fileName) }

        let newRanges = SweptRange.runs(of: remove, apartAround: holds)
        // Carry what is absent of every recorded range after this sweep, so the newest record
        // alone explains every gap (older sweep records may be swept in turn) — of a range an
        // interrupted sweep left partly deleted, the runs that are gone. Not a range all of
        // whose segments this sweep deletes: its own ranges name those seqs, and a verifier
        // takes such a range for one this sweep deleted (docs/FORMAT.md). This sweep's own
        // ranges first: of two with the same seqs, the one with times and bytes is kept.
        let removedDisplayNames = Set(remove.map { LogDirectory.displayName($0.fileName) })
        let carried = recorded.flatMap { $0.absentRuns(besides: remaining) }.filter { r in
            r.segments.isEmpty || !r.segments.allSatisfy(removedDisplayNames.contains) || !SweptRange.union(newRanges, covers: r)
        }
        var ranges: [SweptRange] = []
        var bounds = Set<ClosedRange<SequenceNumber>>()
        for r in newRanges + carried where bounds.insert(r.firstSeq...r.lastSeq).inserted {
            ranges.append(r)
        }
        ranges.sort { $0.firstSeq < $1.firstSeq }
        // Nothing new to record when the records that outlive this sweep (those outside the
        // segments it deletes) already name every one of those ranges: running an interrupted
        // sweep again finishes it. A record in a deleted segment does not count.
        let outliving = SweptRangeCover(records.filter { r in !remove.contains { $0.holds(r.seq) } }.flatMap(\.ranges))
        let alreadyRecorded = ranges.allSatisfy(outliving.contains)

        var report = SweepReport(
            ranges: newRanges, segments: remove, kept: kept,
            bytesFreed: 0, recordsRemoved: remove.reduce(0) { $0 + $1.recordCount }, recordSeq: nil, dryRun: dryRun)
        guard !remove.isEmpty else { return report }
        let files = self.files
        report.bytesFreed = remove.reduce(Int64(0)) { total, s in total + s.bytes + files.size(of: .index, of: s.fileName) }
        // Archived copies under object lock outlive the sweep: it says until when.
        let locked = remove.compactMap { s in (try? files.archiveReceiptIfAny(of: s.fileName))??.retainUntil }.filter { $0 > now }
        report.archivedLockedSegments = locked.count
        report.archivedLockedUntil = locked.max()
        guard !dryRun else { return report }

        if !alreadyRecorded {
            var event = AuditEvent(eventType: SweepRecord.eventType, timestamp: now)
            event.user = actor
            event.resource = "log:\(logID)"
            event.reasonCode = "retention_policy"
            var details: [JSONMember] = [
                JSONMember("first_seq", .integer(newRanges.first?.firstSeq.rawValue ?? 0)),
                JSONMember("last_seq", .integer(newRanges.last?.lastSeq.rawValue ?? 0)),
                JSONMember("chain_value", .string(newRanges.last?.chainAfter.hex)),
                JSONMember("segments", .array(remove.map { .string(LogDirectory.displayName($0.fileName)) })),
                JSONMember("records", .integer(report.recordsRemoved)),
                JSONMember("bytes", .integer(report.bytesFreed)),
                JSONMember("max_age_seconds", policy.maxAgeNanos.map { .integer($0 / 1_000_000_000) } ?? .null),
                JSONMember("max_size_bytes", policy.maxTotalBytes.map { .integer($0) } ?? .null),
                JSONMember("ranges", .array(ranges.map(\.jsonValue))),
            ]
            if let reason { details.append(JSONMember("reason", .string(reason))) }
            if let until = report.archivedLockedUntil {
                details.append(
                    JSONMember(
                        "archive_locked", .object([JSONMember("segments", .integer(report.archivedLockedSegments)), JSONMember("until", .string(until.rfc3339))])))
            }
            event.details = .object(details)
            let receipt = try await append([event], origin: .log)
            report.recordSeq = receipt.firstSeq
        }
        // Proofs at every signed checkpoint's size stay computable (docs/FORMAT.md, "After a
        // sweep").
        let signedSizes = try await BlockingIO.run { () throws(AuditLogError) in try self.storedCheckpoints().map(\.checkpoint.size) }
        try await removeSegments(remove, checkpointSizes: signedSizes)
        LibraryMetrics.swept(records: Int(report.recordsRemoved))
        return report
    }

    /// Every range recorded by the `retention.sweep` records still in the log.
    func existingSweptRanges() async throws(AuditLogError) -> [SweptRange] {
        Self.distinct(try await sweepRecords().flatMap(\.ranges))
    }

    /// The `retention.sweep` records still in the log, oldest first: each one's seq and the
    /// ranges it names.
    func sweepRecords() async throws(AuditLogError) -> [(seq: SequenceNumber, ranges: [SweptRange])] {
        try await collect(Query(filter: EventFilter(fields: ["event_type": [SweepRecord.eventType]]), order: .oldestFirst)).map { ($0.seq, SweptRange.ranges(in: $0.event)) }
    }

    private static func distinct(_ ranges: [SweptRange]) -> [SweptRange] {
        var seen = Set<SweptRange>()
        return ranges.filter { seen.insert($0).inserted }
    }

    /// The newest `retention.sweep` record with a seq after `seq` (anywhere in the log when
    /// nil), or nil when there is none. Reads the event-type column of the segments past `seq`
    /// only: a caller that remembers the head it last looked at reads each segment once.
    package func latestSweep(after seq: SequenceNumber? = nil) async throws(AuditLogError) -> SweepEntry? {
        let sweeps = Query(
            filter: EventFilter(fields: ["event_type": [SweepRecord.eventType]]), order: .oldestFirst,
            cursor: seq.map { Query.cursor(after: $0, order: .oldestFirst) }
        )
        return try await reading(sweeps) { (iterator) throws(AuditLogError) in
            var latest: Record?
            while let record = try iterator.next() { latest = record }
            return latest.map { SweepEntry(seq: $0.seq, time: $0.event.timestamp, ranges: SweptRange.ranges(in: $0.event)) }
        }
    }
}
