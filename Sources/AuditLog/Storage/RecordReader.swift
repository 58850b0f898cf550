/// The order records are read in.
public enum ReadOrder: Sendable, Hashable {
    /// Ascending seq (export).
    case oldestFirst
    /// Descending seq (tail).
    case newestFirst
}

/// A synchronous cursor over the records of a seq range, oldest or newest first. It reads one
/// frame at a time (never a whole segment) from a snapshot of the log's segments taken when
/// it was made, so it sees a consistent prefix while a writer appends.
///
/// Not thread-safe: one consumer at a time (``AuditLog/records(_:order:)`` streams it in
/// batches read on the I/O executor).
package final class RecordReader {
    private let directory: LogDirectory
    private let segments: [SegmentInfo]
    private let lower: SequenceNumber
    private let upper: SequenceNumber
    private let order: ReadOrder

    private var segmentIndex: Int
    private var walker: SegmentWalker?
    /// Backward reads: the frames of the current segment still to visit, last one on top.
    private var pendingFrames: [(offset: Int64, header: FrameHeader)] = []
    private var buffer: [Record] = []
    private var bufferPosition = 0
    private var finished = false

    /// A reader of `range` (nothing when nil) in `segments`.
    init(_ directory: LogDirectory, segments: [SegmentInfo], range: ClosedRange<SequenceNumber>?, order: ReadOrder) {
        self.directory = directory
        self.segments = segments
        self.lower = range?.lowerBound ?? SequenceNumber(1)
        self.upper = range?.upperBound ?? SequenceNumber(1)
        self.order = order
        // The last segment starting at or before the bound we start from.
        let start = order == .oldestFirst ? lower : upper
        var lo = 0
        var hi = segments.count - 1
        var found = order == .oldestFirst ? 0 : segments.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if segments[mid].firstSeq <= start {
                found = mid
                lo = mid + 1
            } else {
                hi = mid - 1
            }
        }
        segmentIndex = segments.isEmpty ? 0 : found
        finished = segments.isEmpty || range == nil
    }

    /// The next record, or nil at the end of the range.
    package func next() throws(AuditLogError) -> Record? {
        while true {
            if bufferPosition < buffer.count {
                let record = buffer[bufferPosition]
                bufferPosition += 1
                if record.seq >= lower && record.seq <= upper { return record }
                continue
            }
            if finished { return nil }
            buffer.removeAll(keepingCapacity: true)
            bufferPosition = 0
            switch order {
            case .oldestFirst: try loadNextFrameForward()
            case .newestFirst: try loadNextFrameBackward()
            }
        }
    }

    /// A walker of the current segment, up to its committed end (what the snapshot holds).
    private func openSegment() throws(AuditLogError) -> Bool {
        guard segmentIndex >= 0, segmentIndex < segments.count else {
            finished = true
            return false
        }
        let info = segments[segmentIndex]
        try info.checkReadable()
        walker = try SegmentWalker(directory, info.fileName, limit: info.dataEnd)
        return true
    }

    private func loadNextFrameForward() throws(AuditLogError) {
        while !finished {
            if walker == nil {
                guard try openSegment() else { return }
            }
            guard let w = walker else { return }
            // Frames wholly before the range are passed over by their headers.
            switch try w.next(.skip) {
            case .frame(let h, let offset):
                if h.firstSeq > upper {
                    finished = true
                    return
                }
                if h.lastSeq < lower { continue }
                _ = try w.frame(at: offset, firstSeq: h.firstSeq, count: h.recordCount, length: Int64(h.frameLengthBytes))
                try decode(w)
                return
            case .damage(let damage):
                throw damage.error(in: w.displayName)
            case .end, .footer, .tornTail:
                walker = nil
                segmentIndex += 1
            }
        }
    }

    private func loadNextFrameBackward() throws(AuditLogError) {
        while !finished {
            if pendingFrames.isEmpty {
                if walker != nil {
                    walker = nil
                    segmentIndex -= 1
                }
                guard try openSegment(), let w = walker else { return }
                if segments[segmentIndex].lastSeq.map({ $0 < lower }) ?? false {
                    finished = true
                    return
                }
                frames: while true {
                    switch try w.next(.skip) {
                    case .frame(let h, let offset):
                        if h.lastSeq >= lower && h.firstSeq <= upper { pendingFrames.append((offset, h)) }
                    case .damage(let damage):
                        throw damage.error(in: w.displayName)
                    case .end, .footer, .tornTail:
                        break frames
                    }
                }
                if pendingFrames.isEmpty {
                    if segmentIndex == 0 { finished = true }
                    continue
                }
            }
            guard let w = walker, let (offset, h) = pendingFrames.popLast() else { continue }
            _ = try w.frame(at: offset, firstSeq: h.firstSeq, count: h.recordCount, length: Int64(h.frameLengthBytes))
            try decode(w)
            buffer.reverse()
            if pendingFrames.isEmpty && segmentIndex == 0 {
                // Last frame of the first segment: nothing more after this buffer.
                finished = true
            }
            return
        }
    }

    /// The records of the frame `w` just decompressed, into the buffer. A record that does not
    /// decode is damage.
    private func decode(_ w: SegmentWalker) throws(AuditLogError) {
        let first = buffer.count
        do throws(FormatError) {
            try w.forEachRecord { (seq, record) throws(FormatError) in
                buffer.append(Record(seq: seq, event: try AuditEvent.decodeRecord(record)))
            }
        } catch {
            let seq = SequenceNumber(w.nextSeq.rawValue - UInt64(w.records.count) + UInt64(buffer.count - first))
            throw AuditLogError(.corruption, "undecodable record: \(error.message)", location: .init(file: w.displayName, seq: seq))
        }
    }

}
