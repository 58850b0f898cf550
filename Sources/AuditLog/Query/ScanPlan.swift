/// A run of one segment's ordinals a query visits, and whether their times need testing.
struct ScanSpan: Hashable {
    var range: Range<Int>
    /// False when every record of the span lies inside the query's window.
    var timed: Bool
}

/// Which ordinals of a segment a query with a time window visits, from the index's frame
/// directory (each frame's record count and time range): frames outside the window are
/// skipped, frames inside it need no time test, and only the frames across its edges are
/// tested record by record. Gateway events arrive roughly in time order, so "the last hour"
/// of a day's segment is a few dozen frames and one or two edge frames — whose times are read
/// from their records instead of decoding the segment's whole timestamps column.
enum ScanPlan {
    /// The spans of `range` to visit, ascending; nil when the frame directory does not
    /// describe the segment exactly (frames not contiguous from its first seq, not covering
    /// its records, or times outside its own), and then the caller tests every record's time.
    static func spans(_ frames: [FrameEntry], of segment: SegmentInfo, window: TimeWindow, range: Range<Int>) -> [ScanSpan]? {
        guard let segmentMin = segment.minTimestamp?.nanosSinceEpoch, let segmentMax = segment.maxTimestamp?.nanosSinceEpoch else { return nil }
        var spans: [ScanSpan] = []
        var start = 0
        for frame in frames {
            guard frame.firstSeq.rawValue == segment.firstSeq.rawValue &+ UInt64(start), frame.recordCount > 0,
                frame.minTimestampNanos <= frame.maxTimestampNanos, frame.minTimestampNanos >= segmentMin, frame.maxTimestampNanos <= segmentMax
            else { return nil }
            let end = start + Int(frame.recordCount)
            let lower = max(start, range.lowerBound)
            let upper = min(end, range.upperBound)
            start = end
            guard lower < upper, window.overlaps(min: frame.minTimestampNanos, max: frame.maxTimestampNanos) else { continue }
            let timed = !window.covers(min: frame.minTimestampNanos, max: frame.maxTimestampNanos)
            if let last = spans.last, last.timed == timed, last.range.upperBound == lower {
                spans[spans.count - 1].range = last.range.lowerBound..<upper
            } else {
                spans.append(ScanSpan(range: lower..<upper, timed: timed))
            }
        }
        guard UInt64(start) == segment.recordCount else { return nil }
        return spans
    }

    /// Records in timed spans.
    static func timedRecords(_ spans: [ScanSpan]) -> Int {
        spans.reduce(0) { $0 + ($1.timed ? $1.range.count : 0) }
    }

    /// Whether reading the times of (at most) `timed` records from their frames costs less than
    /// decoding the timestamps column of a segment of `count` records: a frame costs a
    /// decompression and a header read a record, the column a varint a record of the whole
    /// segment (about a sixteenth of that), so records win up to a sixteenth of the segment.
    static func readsRecordTimes(timed: Int, of count: Int) -> Bool {
        timed <= count / 16
    }
}
