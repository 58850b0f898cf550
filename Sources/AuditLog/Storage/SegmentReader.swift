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

    /// What lies at a file offset, as far as the header bytes tell (payload not yet read).
    enum Probe {
        /// A frame header whose shape is valid (payload not yet checked).
        case frame(FrameHeader)
        /// A valid footer.
        case footer(SegmentFooter)
        /// Exactly at the limit: nothing more.
        case end
        /// The remains of an interrupted write reaching the limit (see ``tornWrite(at:)``).
        case incomplete(String)
        /// Bytes that are neither a frame, a footer nor a torn write: damage.
        case damaged(FormatError)
    }

    func probe(at offset: Int64) throws(AuditLogError) -> Probe {
        let left = limit - offset
        if left <= 0 { return .end }
        let want = Int(min(Int64(SegmentFooter.byteCount), left))
        let got = try file.read(into: &headerBuffer, count: want, at: offset)
        let decoded = headerBuffer.withUnsafeBytes { raw -> Result<Probe, FormatError> in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<got])
            if SegmentFooter.hasMagic(bytes) {
                guard got >= SegmentFooter.byteCount else {
                    return .failure(FormatError(.truncated, "footer cut at \(got) of \(SegmentFooter.byteCount) bytes", offset: 0))
                }
                do throws(FormatError) { return .success(.footer(try SegmentFooter.decode(bytes))) } catch { return .failure(error) }
            }
            guard got >= FrameHeader.byteCount else {
                return .failure(FormatError(.truncated, "\(got) bytes where a frame header of \(FrameHeader.byteCount) belongs", offset: 0))
            }
            do throws(FormatError) {
                let h = try FrameHeader.decode(bytes)
                try h.validateShape()
                return .success(.frame(h))
            } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case .success(let probe): return probe
        case .failure(let error):
            if let torn = try tornWrite(at: offset) { return .incomplete(torn) }
            return .damaged(error)
        }
    }

    /// Why the bytes from `offset` to the limit are the remains of an interrupted write, or nil
    /// when they are not (then they are damage). The one place that tells the two apart
    /// (docs/FORMAT.md, "Reading and recovery"). A torn write is
    ///
    /// - short: a strict prefix of a frame header or a footer (a frame whose payload runs past
    ///   the end is told by ``loadPayload(_:at:decompress:)``), or
    /// - zero-filled: only zero bytes from a 512-byte boundary after `offset` to the end (the
    ///   file grew but its last sectors never reached the disk), or nothing but zero bytes.
    ///
    /// A complete frame or footer with a bad checksum and no such zeros is damage: a flipped
    /// bit, not a crash.
    func tornWrite(at offset: Int64) throws(AuditLogError) -> String? {
        let left = limit - offset
        guard left > 0 else { return nil }
        let zeros = try trailingZeroStart(from: offset)
        if zeros == offset { return "\(left) zero bytes at the end" }
        let sector: Int64 = 512
        let boundary = (max(zeros, offset + 1) + sector - 1) / sector * sector
        if zeros < limit && boundary < limit {
            return "\(left) bytes of an interrupted write: zeros from byte offset \(zeros) to the end"
        }
        if left < Int64(SegmentFooter.byteCount) {
            let n = try file.read(into: &headerBuffer, count: Int(left), at: offset)
            let prefix = headerBuffer.prefix(n)
            func isPrefix(of magic: UInt32) -> Bool {
                withUnsafeBytes(of: magic.littleEndian) { m in prefix.prefix(4).elementsEqual(m.prefix(min(4, n))) }
            }
            if isPrefix(of: SegmentFooter.magic) { return "footer cut at \(n) of \(SegmentFooter.byteCount) bytes" }
            if n < FrameHeader.byteCount && isPrefix(of: FrameHeader.magic) { return "frame header cut at \(n) of \(FrameHeader.byteCount) bytes" }
        }
        return nil
    }

    /// Whether a frame whose header says it runs past the limit is in fact complete, with a
    /// damaged length field: the bytes present, taken as the whole frame, match its checksum
    /// once its stored length says so. (A torn write cannot do that: its bytes end short of
    /// what the checksum covers.)
    func hasDamagedLength(_ h: FrameHeader, at offset: Int64) throws(AuditLogError) -> Bool {
        let present = limit - offset
        guard present > Int64(FrameHeader.byteCount), present < Int64(h.frameLengthBytes) else { return false }
        var candidate = h
        candidate.storedLengthBytes = UInt32(present) - UInt32(FrameHeader.byteCount)
        let n = try file.read(into: &storedBuffer, count: Int(present), at: offset)
        guard n == Int(present) else { return false }
        let prefix = candidate.encodedPrefix()
        return prefix.withUnsafeBytes { p in
            storedBuffer.withUnsafeBytes { frame in
                FrameHeader.checksum(headerPrefix: p, payload: UnsafeRawBufferPointer(rebasing: frame[FrameHeader.byteCount..<n])) == h.checksum
            }
        }
    }

    /// The offset where the run of zero bytes that ends the file (at the limit) starts; the
    /// limit itself when the last byte is not zero. Reads backwards, only as far as the zeros go.
    private func trailingZeroStart(from offset: Int64) throws(AuditLogError) -> Int64 {
        var end = limit
        var chunk = [UInt8]()
        while end > offset {
            let size = Int(min(65_536, end - offset))
            let n = try file.read(into: &chunk, count: size, at: end - Int64(size))
            guard n == size else { return end }
            if let last = chunk.prefix(n).lastIndex(where: { $0 != 0 }) { return end - Int64(size) + Int64(last) + 1 }
            end -= Int64(size)
        }
        return offset
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
