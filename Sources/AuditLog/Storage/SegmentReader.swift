/// Reads the frames of one segment file with positioned reads, reusing its buffers. Used by
/// recovery, queries and verification alike; knows nothing of the writer.
final class SegmentReader {
    let file: SystemFile
    let fileName: String
    let header: SegmentHeader
    /// Bytes of the file this reader may look at (the committed end for an in-process reader
    /// of the active segment, else the file size when opened).
    var limit: Int64

    private var headerBuffer = [UInt8](repeating: 0, count: FrameHeader.byteCount)
    private var storedBuffer: [UInt8] = []
    /// The raw payload of the last frame loaded by ``loadPayload(_:at:decompress:)``.
    private(set) var rawBuffer: [UInt8] = []
    private(set) var rawCount = 0

    var displayName: String { LogPaths.displayName(fileName) }

    /// Opens a segment and decodes its header.
    init(paths: LogPaths, fileName: String, limit: Int64? = nil) throws(AuditLogError) {
        let name = LogPaths.displayName(fileName)
        file = try SystemFile.openForReading(paths.segmentPath(fileName), displayName: name)
        self.fileName = fileName
        let size = try file.size()
        self.limit = min(limit ?? size, size)
        var buffer = [UInt8]()
        let n = try file.read(into: &buffer, count: SegmentHeader.byteCount, at: 0)
        do throws(FormatError) {
            header = try buffer.withRawBytes { (raw) throws(FormatError) in
                try SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
            }
        } catch {
            throw AuditLogError(error, file: name, baseOffset: 0)
        }
    }

    /// What lies at a file offset.
    enum Probe {
        /// A frame header whose shape is valid (payload not yet checked).
        case frame(FrameHeader)
        /// A valid footer.
        case footer(SegmentFooter)
        /// Exactly at the limit: nothing more.
        case end
        /// Fewer bytes than a complete frame or footer, or only zero bytes up to the limit:
        /// the remains of an interrupted write.
        case incomplete(String)
        /// Bytes that are neither: damage (or a footer with a bad checksum, see `reachesEnd`).
        case damaged(FormatError, reachesEnd: Bool)
    }

    func probe(at offset: Int64) throws(AuditLogError) -> Probe {
        let left = limit - offset
        if left <= 0 { return .end }
        let want = Int(min(Int64(SegmentFooter.byteCount), left))
        let got = try file.read(into: &headerBuffer, count: want, at: offset)
        let head = headerBuffer.prefix(got)
        if head.allSatisfy({ $0 == 0 }), try allZero(from: offset + Int64(got)) {
            return .incomplete("\(left) zero bytes at the end")
        }
        return headerBuffer.withUnsafeBytes { raw -> Probe in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<got])
            if SegmentFooter.hasMagic(bytes) {
                guard got >= SegmentFooter.byteCount else { return .incomplete("footer cut at \(got) of \(SegmentFooter.byteCount) bytes") }
                do throws(FormatError) {
                    return .footer(try SegmentFooter.decode(bytes))
                } catch {
                    return .damaged(error, reachesEnd: offset + Int64(SegmentFooter.byteCount) >= limit)
                }
            }
            guard got >= FrameHeader.byteCount else {
                if bytes.count >= 4, bytes.loadUnaligned(as: UInt32.self) == FrameHeader.magic.littleEndian {
                    return .incomplete("frame header cut at \(got) of \(FrameHeader.byteCount) bytes")
                }
                return .damaged(FormatError(.malformed, "\(got) stray bytes at the end", offset: 0), reachesEnd: true)
            }
            do throws(FormatError) {
                let h = try FrameHeader.decode(bytes)
                try h.validateShape()
                return .frame(h)
            } catch {
                return .damaged(error, reachesEnd: false)
            }
        }
    }

    private func allZero(from offset: Int64) throws(AuditLogError) -> Bool {
        var position = offset
        var chunk = [UInt8]()
        while position < limit {
            let n = try file.read(into: &chunk, count: Int(min(65_536, limit - position)), at: position)
            if n == 0 { return true }
            if !chunk.prefix(n).allSatisfy({ $0 == 0 }) { return false }
            position += Int64(n)
        }
        return true
    }

    /// Reads a frame's payload, checks its checksum and (optionally) decompresses it into
    /// ``rawBuffer``. Returns nil when the frame runs past ``limit``.
    ///
    /// - Throws: ``FormatError`` (offset relative to the frame start) for a checksum or
    ///   decompression failure; ``AuditLogError`` for I/O.
    func loadPayload(_ h: FrameHeader, at offset: Int64, decompress: Bool = true) throws(AuditLogError) -> Result<Bool, FormatError> {
        let stored = Int(h.storedLengthBytes)
        guard offset + Int64(h.frameLengthBytes) <= limit else { return .success(false) }
        let n = try file.read(into: &storedBuffer, count: FrameHeader.byteCount + stored, at: offset)
        guard n == FrameHeader.byteCount + stored else { return .success(false) }
        do throws(FormatError) {
            try storedBuffer.withRawBytes { (frame) throws(FormatError) in
                try h.unpack(UnsafeRawBufferPointer(rebasing: frame[0..<n]), decompress: decompress, into: &rawBuffer)
            }
            if decompress { rawCount = Int(h.rawLengthBytes) }
            return .success(true)
        } catch {
            return .failure(error)
        }
    }

    /// Decodes the records of the frame last loaded into `out`, seqs from `h.firstSeq` on.
    func decodeRecords(_ h: FrameHeader, frameOffset: Int64, into out: inout [Record]) throws(AuditLogError) {
        var seq = h.firstSeq
        var decoded: UInt32 = 0
        do throws(FormatError) {
            try forEachRecord(firstSeq: h.firstSeq) { (_, record) throws(FormatError) in
                out.append(Record(seq: seq, event: try AuditEvent.decodeRecord(record)))
                seq = seq.next
                decoded += 1
            }
        } catch {
            throw AuditLogError(.corruption, "undecodable record: \(error.message)", location: .init(file: displayName, offset: frameOffset, seq: seq))
        }
        guard decoded == h.recordCount else {
            throw AuditLogError(.corruption, "frame holds \(decoded) records, header says \(h.recordCount)", location: .init(file: displayName, offset: frameOffset, seq: h.firstSeq))
        }
    }

    /// Calls `body` with each record of the frame last loaded and its seq (counted from
    /// `firstSeq`: seqs are not stored, they are implied by position).
    func forEachRecord(firstSeq: SequenceNumber, _ body: (SequenceNumber, UnsafeRawBufferPointer) throws(FormatError) -> Void) throws(FormatError) {
        try rawBuffer.withRawBytes { (raw) throws(FormatError) in
            var it = FramePayloadIterator(UnsafeRawBufferPointer(rebasing: raw[0..<rawCount]))
            var seq = firstSeq
            while let record = try it.next() {
                try body(seq, record)
                seq = seq.next
            }
        }
    }

    /// The byte ranges of the records in the frame last loaded, in order.
    func recordRanges() throws(FormatError) -> [Range<Int>] {
        try rawBuffer.withRawBytes { (raw) throws(FormatError) in
            let payload = UnsafeRawBufferPointer(rebasing: raw[0..<rawCount])
            var ranges: [Range<Int>] = []
            var r = ByteReader(payload)
            while !r.isAtEnd {
                let length = try r.readVarint("record length")
                guard length <= UInt64(r.remaining) else {
                    throw FormatError(.truncated, "record of \(length) bytes runs past the end of the frame", offset: r.offset)
                }
                ranges.append(r.offset..<(r.offset + Int(length)))
                _ = try r.readBytes(Int(length))
            }
            return ranges
        }
    }

    /// Reads the footer at the end of the file, if the file is sealed.
    func readFooter(fileSize: Int64) throws(AuditLogError) -> SegmentFooter? {
        let offset = fileSize - Int64(SegmentFooter.byteCount)
        guard offset >= Int64(SegmentHeader.byteCount) else { return nil }
        let saved = limit
        limit = fileSize
        defer { limit = saved }
        guard case .footer(let footer) = try probe(at: offset), footer.dataEndOffset == UInt64(offset) else { return nil }
        return footer
    }
}
