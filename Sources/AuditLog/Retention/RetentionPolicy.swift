/// How long a log keeps its data: a maximum age (by the event time of a segment's newest
/// event) and, optionally, a maximum total size. Oldest segments go first; the active segment
/// and segments under a legal hold are never deleted.
public struct RetentionPolicy: Hashable, Sendable {
    /// Segments whose newest event is older than this are deleted (nil: no age limit).
    public var maxAgeNanos: Int64?
    /// While the segments take more bytes than this, the oldest deletable ones go (nil: no
    /// size limit).
    public var maxTotalBytes: Int64?

    public init(maxAgeNanos: Int64? = nil, maxTotalBytes: Int64? = nil) {
        self.maxAgeNanos = maxAgeNanos
        self.maxTotalBytes = maxTotalBytes
    }

    /// A policy keeping events for `maxAge` (and, optionally, at most `maxTotalBytes`).
    public init(maxAge: Duration, maxTotalBytes: Int64? = nil) {
        self.init(maxAgeNanos: maxAge.nanoseconds, maxTotalBytes: maxTotalBytes)
    }

    /// A policy of `days` days.
    public static func days(_ days: Int) -> RetentionPolicy {
        RetentionPolicy(maxAgeNanos: Int64(days) * 86_400_000_000_000)
    }
}

/// What a sweep removed (or, in a dry run, would remove).
public struct SweepReport: Hashable, Sendable {
    /// The removed seq ranges this sweep recorded.
    package var ranges: [SweptRange]
    /// The removed segments.
    package var segments: [SegmentInfo]
    /// Segments the policy would remove that the sweep kept, and why, oldest first.
    package var kept: [KeptSegment]
    /// Expired segments kept because of legal holds (``kept``'s segments).
    package var heldSegments: [SegmentInfo] { kept.map(\.segment) }
    /// Bytes freed (segment and index files).
    public var bytesFreed: Int64
    /// Records removed.
    public var recordsRemoved: UInt64
    /// Removed segments whose archived objects are under object lock: they stay in the archive
    /// until their retain-until date, then expire by the bucket's lifecycle (the sweep record
    /// says so too).
    public var archivedLockedSegments: Int = 0
    /// The latest retain-until date among them.
    public var archivedLockedUntil: Timestamp?
    /// The seq of the `retention.sweep` record, nil when nothing was swept or in a dry run.
    public var recordSeq: SequenceNumber?
    /// True when nothing was changed.
    public var dryRun: Bool
}

/// A segment a sweep kept although its policy would remove it, and the legal holds it was kept
/// for.
package struct KeptSegment: Hashable, Sendable {
    package var segment: SegmentInfo
    /// The holds in force that cover its events or whose `hold.placed` record it holds.
    package var holds: [String]
    /// Released holds whose `hold.released` record it holds while their `hold.placed` record
    /// stays in the log: without the release, the hold would be in force again.
    package var releases: [String] = []
}

/// A legal hold: while it is in place, no segment with events in its time range is swept.
public struct LegalHold: Hashable, Sendable {
    /// The id of its `hold.placed` event.
    public var id: String
    /// Start of the held range of event time, `[from, until)` (nil: open; both nil: the
    /// whole log).
    public var from: Timestamp?
    /// End of the held range (exclusive; nil: open).
    public var until: Timestamp?
    /// Why it was placed.
    public var reason: String
    /// Who placed it.
    public var placedBy: String?
    /// When it was placed.
    public var placedAt: Timestamp
    /// The seq of its `hold.placed` record.
    public var seq: SequenceNumber

    func covers(minNanos: Int64, maxNanos: Int64) -> Bool {
        TimeWindow(since: from, until: until).overlaps(min: minNanos, max: maxNanos)
    }
}

/// A `retention.sweep` record in the log: when the sweep ran and what it removed.
package struct SweepEntry: Hashable, Sendable {
    /// The record's seq.
    package var seq: SequenceNumber
    /// When the sweep ran (the record's event time).
    package var time: Timestamp
    /// The seq ranges it deleted.
    package var ranges: [SweptRange]

    /// Records the sweep deleted.
    package var records: UInt64 { ranges.reduce(0) { $0 + $1.records } }
}
