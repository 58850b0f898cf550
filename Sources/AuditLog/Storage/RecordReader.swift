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
/// Not thread-safe: one consumer at a time. ``RecordSequence`` wraps it as an `AsyncSequence`.
public final class RecordReader {
    private let paths: LogPaths
    private let segments: [SegmentInfo]
    private let lower: SequenceNumber
    private let upper: SequenceNumber
    private let order: ReadOrder

    private var segmentIndex: Int
    private var reader: SegmentReader?
    private var frameOffset: Int64 = 0
    /// Backward reads: the frames of the current segment still to visit, last one on top.
    private var pendingFrames: [(offset: Int64, header: FrameHeader)] = []
    private var buffer: [Record] = []
    private var bufferPosition = 0
    private var finished = false

    init(paths: LogPaths, segments: [SegmentInfo], range: ClosedRange<SequenceNumber>, order: ReadOrder) {
        self.paths = paths
        self.segments = segments
        self.lower = range.lowerBound
        self.upper = range.upperBound
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
        finished = segments.isEmpty || range.isEmpty
    }

    /// The next record, or nil at the end of the range.
    public func next() throws(AuditLogError) -> Record? {
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

    private func openSegment() throws(AuditLogError) -> SegmentReader? {
        guard segmentIndex >= 0, segmentIndex < segments.count else {
            finished = true
            return nil
        }
        let info = segments[segmentIndex]
        try info.checkReadable()
        let r = try SegmentReader(paths: paths, fileName: info.fileName, limit: info.dataEnd)
        reader = r
        frameOffset = Int64(SegmentHeader.byteCount)
        return r
    }

    private func damaged(_ error: FormatError, _ r: SegmentReader, _ offset: Int64, _ seq: SequenceNumber?) -> AuditLogError {
        AuditLogError(.corruption, error.message, location: .init(file: r.displayName, offset: offset + Int64(error.offset), seq: seq))
    }

    private func loadNextFrameForward() throws(AuditLogError) {
        while !finished {
            let r: SegmentReader
            if let existing = reader {
                r = existing
            } else {
                guard let opened = try openSegment() else { return }
                r = opened
            }
            let probe = try r.probe(at: frameOffset)
            guard case .frame(let h) = probe else {
                if case .damaged(let error) = probe { throw damaged(error, r, frameOffset, nil) }
                reader = nil
                segmentIndex += 1
                continue
            }
            if h.firstSeq > upper {
                finished = true
                return
            }
            let offset = frameOffset
            frameOffset += Int64(h.frameLengthBytes)
            if h.lastSeq < lower { continue }
            try load(h, at: offset, from: r)
            return
        }
    }

    private func loadNextFrameBackward() throws(AuditLogError) {
        while !finished {
            if pendingFrames.isEmpty {
                if reader != nil {
                    reader = nil
                    segmentIndex -= 1
                }
                guard let r = try openSegment() else { return }
                if segments[segmentIndex].lastSeq.map({ $0 < lower }) ?? false {
                    finished = true
                    return
                }
                var offset = Int64(SegmentHeader.byteCount)
                while case .frame(let h) = try r.probe(at: offset) {
                    if h.lastSeq >= lower && h.firstSeq <= upper { pendingFrames.append((offset, h)) }
                    offset += Int64(h.frameLengthBytes)
                }
                if case .damaged(let error) = try r.probe(at: offset) { throw damaged(error, r, offset, nil) }
                if pendingFrames.isEmpty {
                    if segmentIndex == 0 { finished = true }
                    continue
                }
            }
            guard let r = reader, let (offset, h) = pendingFrames.popLast() else { continue }
            try load(h, at: offset, from: r)
            buffer.reverse()
            if pendingFrames.isEmpty && segmentIndex == 0 {
                // Last frame of the first segment: nothing more after this buffer.
                finished = true
            }
            return
        }
    }

    private func load(_ h: FrameHeader, at offset: Int64, from r: SegmentReader) throws(AuditLogError) {
        switch try r.loadPayload(h, at: offset) {
        case .success(true):
            try r.decodeRecords(h, frameOffset: offset, into: &buffer)
        case .success(false):
            finished = true
        case .failure(let error):
            throw damaged(error, r, offset, h.firstSeq)
        }
    }
}

/// Records of a seq range as an `AsyncSequence`. Each step reads at most one frame (tens of
/// kilobytes, usually from the page cache) on the calling task.
public struct RecordSequence: AsyncSequence, Sendable {
    public typealias Element = Record
    public typealias Failure = AuditLogError

    let paths: LogPaths
    let segments: [SegmentInfo]
    let range: ClosedRange<SequenceNumber>
    let order: ReadOrder

    /// Reads one frame at a time through a ``RecordReader``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = Record
        public typealias Failure = AuditLogError
        let reader: RecordReader

        public mutating func next() async throws(AuditLogError) -> Record? {
            try reader.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(AuditLogError) -> Record? {
            try reader.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: makeReader())
    }

    /// A synchronous cursor over the same records.
    public func makeReader() -> RecordReader {
        RecordReader(paths: paths, segments: segments, range: range, order: order)
    }
}
