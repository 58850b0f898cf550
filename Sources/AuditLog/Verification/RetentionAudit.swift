/// The retention records of a log, in seq order, and what `verify` checks of them: each
/// `retention.sweep` against the legal holds in force when it ran and against what it claims
/// to have deleted (docs/FORMAT.md, "Retention sweeps and gaps").
struct RetentionAudit {
    /// One `retention.sweep` record.
    struct Sweep {
        var seq: SequenceNumber
        var time: Timestamp
        /// Every range the record names (those absent after it ran, earlier sweeps' included).
        var ranges: [SweptRange]
        /// The policy's age limit, when the sweep was by age alone.
        var maxAgeNanos: Int64?
        /// The segment files this sweep itself deleted (its own `segments` field), or nil in a
        /// record without one.
        var ownSegments: Set<String>?

        /// Whether this sweep deleted `range` itself rather than carrying it from an earlier
        /// sweep record (which may have been swept in turn): whether the sweep's own segments
        /// include all of the range's. A range an interrupted sweep left partly deleted, which
        /// this one finished, is carried: its times and its policy are the earlier sweep's.
        func deleted(_ range: SweptRange) -> Bool {
            guard let ownSegments else { return true }
            return !range.segments.isEmpty && range.segments.allSatisfy(ownSegments.contains)
        }
    }

    /// One `hold.placed` or `hold.released` record.
    enum HoldEvent {
        case placed(LegalHold)
        case released(holdID: String, seq: SequenceNumber)
    }

    private(set) var sweeps: [Sweep] = []
    private(set) var holdEvents: [HoldEvent] = []

    /// Every range any sweep record names.
    var ranges: [SweptRange] {
        var out: [SweptRange] = []
        for sweep in sweeps { for r in sweep.ranges where !out.contains(r) { out.append(r) } }
        return out
    }

    /// Adds a record (of any type; the others are ignored), in seq order.
    mutating func add(_ record: Record) {
        let e = record.event
        switch e.eventType {
        case SweepRecord.eventType:
            var maxAge: Int64?
            if case .number(let text)? = e.details?["max_age_seconds"], let seconds = Int64(text),
                e.details?["max_size_bytes"].map({ $0 == .null }) ?? true
            {
                maxAge = seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow ? nil : seconds * 1_000_000_000
            }
            var own: Set<String>?
            if case .array(let items)? = e.details?["segments"] { own = Set(items.compactMap(\.stringValue)) }
            sweeps.append(Sweep(seq: record.seq, time: e.timestamp, ranges: SweptRange.ranges(in: e), maxAgeNanos: maxAge, ownSegments: own))
        case AuditLog.holdPlaced:
            holdEvents.append(.placed(LegalHold(record: record)))
        case AuditLog.holdReleased:
            if let id = e.details?["hold_id"]?.stringValue { holdEvents.append(.released(holdID: id, seq: record.seq)) }
        default:
            break
        }
    }

    /// The holds in force just before `seq`.
    func holds(before seq: SequenceNumber) -> [LegalHold] {
        var placed: [LegalHold] = []
        var released = Set<String>()
        for event in holdEvents {
            switch event {
            case .placed(let hold) where hold.seq < seq: placed.append(hold)
            case .released(let id, let at) where at < seq: released.insert(id)
            default: break
            }
        }
        return placed.filter { !released.contains($0.id) }
    }

    /// A problem with one sweep record, and the seq of that record.
    struct Finding {
        var seq: SequenceNumber
        var message: String
    }

    /// Every sweep checked against its own claims and the holds in force when it ran.
    func findings() -> [Finding] {
        var out: [Finding] = []
        var earlier: [SweptRange] = []
        for sweep in sweeps {
            // The ranges this sweep removed: those no earlier sweep record names.
            let removed = sweep.ranges.filter { r in !earlier.contains { $0.firstSeq == r.firstSeq && $0.lastSeq == r.lastSeq } }
            let holds = holds(before: sweep.seq)
            for r in removed {
                let span = "seqs \(r.firstSeq)–\(r.lastSeq)"
                if r.lastSeq >= sweep.seq {
                    out.append(Finding(seq: sweep.seq, message: "the sweep claims to have deleted \(span), at or after its own record"))
                }
                let count = r.lastSeq.rawValue - r.firstSeq.rawValue + 1
                if r.records != 0 && r.records != count {
                    out.append(Finding(seq: sweep.seq, message: "the sweep names \(span) as \(r.records) records; the range holds \(count)"))
                }
                let firsts = r.segmentFirstSeqs
                if !r.segments.isEmpty {
                    let valid =
                        firsts.allSatisfy { $0.map { $0 >= r.firstSeq && $0 <= r.lastSeq } ?? false }
                        && firsts.first == r.firstSeq && zip(firsts, firsts.dropFirst()).allSatisfy { ($0 ?? SequenceNumber(0)) < ($1 ?? SequenceNumber(0)) }
                    if !valid {
                        out.append(Finding(seq: sweep.seq, message: "the segments the sweep names for \(span) (\(r.segments.joined(separator: ", "))) do not start at and lie within that range"))
                    }
                }
                // A range the sweep carried from an earlier record no longer in the log was
                // deleted at that record's time, under the holds then in force: nothing here
                // tells what those were.
                guard sweep.deleted(r) else { continue }
                for hold in holds {
                    if hold.seq >= r.firstSeq && hold.seq <= r.lastSeq {
                        out.append(Finding(seq: sweep.seq, message: "the sweep deleted \(span), which held the record of legal hold '\(hold.id)' (seq \(hold.seq)), in force when it ran"))
                    } else if let min = r.minTime, let max = r.maxTime, hold.covers(minNanos: min.nanosSinceEpoch, maxNanos: max.nanosSinceEpoch) {
                        out.append(
                            Finding(
                                seq: sweep.seq,
                                message:
                                    "the sweep deleted events from \(min.rfc3339) to \(max.rfc3339) (\(span)) while legal hold '\(hold.id)' covering \(hold.from?.rfc3339 ?? "the beginning")–\(hold.until?.rfc3339 ?? "the end") was in force"
                            ))
                    }
                }
                if let maxAge = sweep.maxAgeNanos, let max = r.maxTime, max.nanosSinceEpoch >= sweep.time.nanosSinceEpoch - maxAge {
                    out.append(
                        Finding(
                            seq: sweep.seq,
                            message: "the sweep deleted events up to \(max.rfc3339) (\(span)), newer than its own policy of \(maxAge / 1_000_000_000) s allowed at \(sweep.time.rfc3339)"))
                }
            }
            earlier += removed
        }
        return out
    }
}

extension LegalHold {
    /// The hold a `hold.placed` record places.
    init(record: Record) {
        let e = record.event
        self.init(
            id: e.id ?? "",
            from: e.details?["from"]?.stringValue.flatMap { Timestamp(rfc3339: $0) },
            until: e.details?["to"]?.stringValue.flatMap { Timestamp(rfc3339: $0) },
            reason: e.details?["reason"]?.stringValue ?? "", placedBy: e.user, placedAt: e.timestamp, seq: record.seq)
    }
}
