/// What one segment file holds, from its header and footer (or, for the active segment, from
/// a scan of its frames).
public struct SegmentInfo: Hashable, Sendable {
    /// File name inside `segments/`, e.g. `00000000000000000001.seg`.
    public var fileName: String
    /// The seq of its first record.
    public var firstSeq: SequenceNumber
    /// Number of records.
    public var recordCount: UInt64
    /// Earliest event time (nil when empty).
    public var minTimestamp: Timestamp?
    /// Latest event time (nil when empty).
    public var maxTimestamp: Timestamp?
    /// Start of the time partition the segment was opened for.
    public var partitionStart: Timestamp
    /// Bytes of the file (header, frames and footer).
    public var bytes: Int64
    /// Bytes of record data before compression.
    public var rawPayloadBytes: UInt64
    /// Number of frames.
    public var frameCount: UInt64
    /// True once the footer is written; the segment never changes again.
    public var isSealed: Bool
    /// The chain value before its first record.
    public var anchor: ChainHash
    /// The chain value after its last record (the anchor when empty).
    public var chainAfter: ChainHash
    /// Why the segment cannot be read, when a reader found it damaged at open (its counts and
    /// time range are then only bounds from its neighbours); nil when intact.
    public var damage: String?

    /// The seq of its last record (nil when empty).
    public var lastSeq: SequenceNumber? {
        recordCount == 0 ? nil : SequenceNumber(firstSeq.rawValue + recordCount - 1)
    }

    /// The seq the next segment starts at.
    var nextSeq: SequenceNumber { SequenceNumber(firstSeq.rawValue + recordCount) }

    /// The byte offset where frames end (the footer, or the end of the active file).
    var dataEnd: Int64 { isSealed ? bytes - Int64(SegmentFooter.byteCount) : bytes }

    init(fileName: String, header: SegmentHeader, footer: SegmentFooter, fileSize: Int64) {
        self.fileName = fileName
        firstSeq = header.firstSeq
        recordCount = footer.recordCount
        minTimestamp = footer.recordCount > 0 ? Timestamp(nanosSinceEpoch: footer.minTimestampNanos) : nil
        maxTimestamp = footer.recordCount > 0 ? Timestamp(nanosSinceEpoch: footer.maxTimestampNanos) : nil
        partitionStart = Timestamp(nanosSinceEpoch: header.partitionStartNanos)
        bytes = fileSize
        rawPayloadBytes = footer.rawPayloadBytes
        frameCount = footer.frameCount
        isSealed = true
        anchor = header.anchor
        chainAfter = footer.chainAfter
    }

    /// Throws the damage found at open, if any.
    func checkReadable() throws(AuditLogError) {
        if let damage {
            throw AuditLogError(.corruption, "segment is damaged: \(damage)", location: .init(file: LogPaths.displayName(fileName), seq: firstSeq))
        }
    }

    /// A sealed segment whose header or footer cannot be read: a placeholder that makes every
    /// read of it fail with `reason`.
    init(damaged fileName: String, reason: String, after previous: SegmentInfo?) {
        self.fileName = fileName
        firstSeq = LogPaths.firstSeq(ofSegmentFileName: fileName) ?? previous?.nextSeq ?? SequenceNumber(1)
        recordCount = 0
        partitionStart = previous?.partitionStart ?? Timestamp(nanosSinceEpoch: 0)
        bytes = Int64(SegmentHeader.byteCount + SegmentFooter.byteCount)
        rawPayloadBytes = 0
        frameCount = 0
        isSealed = true
        anchor = previous?.chainAfter ?? ChainHash.zero
        chainAfter = anchor
        damage = reason
    }

    init(fileName: String, header: SegmentHeader, scan: ActiveSegmentScan) {
        self.fileName = fileName
        firstSeq = header.firstSeq
        recordCount = scan.recordCount
        minTimestamp = scan.recordCount > 0 ? Timestamp(nanosSinceEpoch: scan.minTimestampNanos) : nil
        maxTimestamp = scan.recordCount > 0 ? Timestamp(nanosSinceEpoch: scan.maxTimestampNanos) : nil
        partitionStart = Timestamp(nanosSinceEpoch: header.partitionStartNanos)
        bytes = scan.dataEnd
        rawPayloadBytes = scan.rawPayloadBytes
        frameCount = scan.frameCount
        isSealed = false
        anchor = header.anchor
        chainAfter = scan.chainAfter
    }
}

/// The state of an active segment found by scanning its frames.
struct ActiveSegmentScan {
    var dataEnd: Int64
    var frameCount: UInt64 = 0
    var recordCount: UInt64 = 0
    var minTimestampNanos = Int64.max
    var maxTimestampNanos = Int64.min
    var rawPayloadBytes: UInt64 = 0
    var chainAfter: ChainHash
    /// Set when the scan found a valid footer at the end (a segment sealed just before a crash).
    var footer: SegmentFooter?
    /// Set when the file ends in an incomplete frame: where it starts and why.
    var tornTail: (offset: Int64, reason: String)?

    mutating func add(_ h: FrameHeader) {
        frameCount += 1
        recordCount += UInt64(h.recordCount)
        minTimestampNanos = min(minTimestampNanos, h.minTimestampNanos)
        maxTimestampNanos = max(maxTimestampNanos, h.maxTimestampNanos)
        rawPayloadBytes += UInt64(h.rawLengthBytes)
        chainAfter = h.chainAfter
        dataEnd += Int64(h.frameLengthBytes)
    }

    /// Scans every frame of `reader` up to its limit, checking each checksum.
    ///
    /// An incomplete final frame (or footer) is reported in ``tornTail``; a damaged frame that
    /// does not reach the end of the file throws ``AuditLogError`` naming file, offset and seq.
    /// `resuming` continues an earlier scan of the same file (a reader following a writer).
    /// `from` starts it from a known state instead (an active-index checkpoint's).
    static func scan(_ reader: SegmentReader, resuming previous: SegmentInfo? = nil, from start: ActiveSegmentScan? = nil) throws(AuditLogError) -> ActiveSegmentScan {
        var state = start ?? ActiveSegmentScan(dataEnd: Int64(SegmentHeader.byteCount), chainAfter: reader.header.anchor)
        if let previous, !previous.isSealed {
            state.dataEnd = previous.bytes
            state.frameCount = previous.frameCount
            state.recordCount = previous.recordCount
            state.minTimestampNanos = previous.minTimestamp?.nanosSinceEpoch ?? .max
            state.maxTimestampNanos = previous.maxTimestamp?.nanosSinceEpoch ?? .min
            state.rawPayloadBytes = previous.rawPayloadBytes
            state.chainAfter = previous.chainAfter
        }
        var expected = SequenceNumber(reader.header.firstSeq.rawValue + state.recordCount)
        func damage(_ message: String, _ offset: Int64) -> AuditLogError {
            AuditLogError(.corruption, message, location: .init(file: reader.displayName, offset: offset, seq: expected))
        }
        while true {
            let offset = state.dataEnd
            switch try reader.probe(at: offset) {
            case .end:
                return state
            case .incomplete(let why):
                state.tornTail = (offset, why)
                return state
            case .damaged(let error):
                throw damage(error.message, offset + Int64(error.offset))
            case .footer(let footer):
                guard footer.dataEndOffset == UInt64(offset), footer.recordCount == state.recordCount,
                      footer.chainAfter == state.chainAfter, footer.frameCount == state.frameCount
                else { throw damage("footer does not match the frames before it", offset) }
                guard offset + Int64(SegmentFooter.byteCount) == reader.limit else {
                    throw damage("\(reader.limit - offset - Int64(SegmentFooter.byteCount)) bytes after the footer", offset + Int64(SegmentFooter.byteCount))
                }
                state.footer = footer
                return state
            case .frame(let h):
                guard h.firstSeq == expected else {
                    throw damage("frame starts at seq \(h.firstSeq), expected \(expected)", offset)
                }
                switch try reader.loadPayload(h, at: offset, decompress: false) {
                case .success(false):
                    if try reader.hasDamagedLength(h, at: offset) {
                        throw damage("frame length field damaged: the frame is complete, its header says \(h.frameLengthBytes) bytes", offset + 8)
                    }
                    state.tornTail = (offset, "frame of \(h.frameLengthBytes) bytes runs past the end of the file (\(reader.limit - offset) bytes left)")
                    return state
                case .success:
                    state.add(h)
                    expected = SequenceNumber(h.firstSeq.rawValue + UInt64(h.recordCount))
                case .failure(let error):
                    if let torn = try reader.tornWrite(at: offset) {
                        state.tornTail = (offset, "\(error.message); \(torn)")
                        return state
                    }
                    throw damage(error.message, offset + Int64(error.offset))
                }
            }
        }
    }
}
