/// What the storage layer tells the layers that derive files from segments — indexes today;
/// the Merkle tree, archive uploads and webhook cursors next — and the two hints it asks them
/// for. Storage knows nothing of what they derive: each keeps its own files (named by
/// ``LogDirectory``), rebuildable from the segments, and hears here when those change.
///
/// Calls come from the writer's queue (or, for the hints, from whoever loads the catalog):
/// they must be quick; heavy work goes to the observer's own queue.
protocol StorageObserver: AnyObject, Sendable {
    /// A segment was sealed: its footer is written and synced.
    func segmentSealed(_ segment: SegmentInfo)

    /// Segments were removed (a retention sweep, or a failed group undone), with their
    /// derived files.
    func segmentsRemoved(_ names: Set<String>)

    /// A segment sealed by a group that failed was cut back and is active again: what was
    /// derived from it as sealed is gone.
    func segmentUnsealed(_ name: String)

    /// The writer is closing; `active` is the active segment as it stays on disk.
    func writerClosing(active: SegmentInfo?)

    /// Waits until the work these calls queued has finished (before the writer lock goes).
    func waitForBackgroundWork()

    /// Where a scan of the active segment `name` (of `limit` bytes) may start instead of at its
    /// first frame, from what the observer derived earlier; nil when it knows nothing. Storage
    /// checks the answer against the segment before it trusts it.
    func resumePoint(ofActiveSegment name: String, limit: Int64) -> ResumePoint?

    /// Storage checked `point`, the observer's answer for the active segment `name`, against
    /// the segment and resumed its scan there: what the observer derived up to that point
    /// describes these very records, and it may use it without checking it again.
    func resumed(activeSegment name: String, at point: ResumePoint)

    /// The byte offset up to which the active segment `name`'s records are known to have been
    /// committed and synced (durable evidence kept beside it), or nil. A torn tail starting
    /// before it is not torn: it is damage, never cut.
    func committedEnd(ofActiveSegment name: String) -> Int64?

    /// The id hashes of sealed `segment`'s records (``IDIndex/hash(_:)``) with their seqs, from
    /// what the observer derived; nil when it has none. The writer's duplicate check builds from
    /// these instead of decoding the segment.
    func idHashes(ofSealed segment: SegmentInfo) -> [(hash: UInt32, seq: UInt64)]?
}

/// A point an active segment's scan may resume at: the state there, and the frame that ends
/// there, which storage checks in the segment (same seqs, same chain value, ending there).
struct ResumePoint: Sendable {
    var scan: ActiveSegmentScan
    var lastFrameOffset: Int64
    var lastFrameFirstSeq: SequenceNumber
    var lastFrameRecords: UInt32
}
