/// The one reader of segment files (leveldb's `log::Reader`): walks any ``SegmentFile`` from
/// its header, frame by frame, to its footer or its end, and decides in exactly one place what
/// each span of bytes is — a frame, the footer, the clean end, a torn tail or damage
/// (docs/FORMAT.md, "Reading and recovery"). Recovery, verification, reads, index builds, id
/// lookups and the fuzzer all walk segments through it.
///
/// It reuses its buffers (a class, so that passing it around never copies them); not
/// thread-safe (one owner at a time).
final class SegmentWalker {
    /// What the walk found at the current position.
    enum Step {
        /// A valid frame: its header and where it starts. With ``Payload/decompress`` its
        /// records are in ``records``.
        case frame(FrameHeader, offset: Int64)
        /// A valid footer ending exactly at the limit, at `offset` (the end of the frames).
        case footer(SegmentFooter, offset: Int64)
        /// The end of the frames, at the limit, without a footer.
        case end
        /// The remains of an interrupted write from `offset` to the limit (only where the walk
        /// may end torn: the last segment, not sealed).
        case tornTail(offset: Int64, reason: String)
        /// Bytes that are none of the above.
        case damage(Damage)
    }

    /// Bytes that do not decode: where, at which seq, what kind of problem and why.
    struct Damage: Hashable, Sendable {
        enum Kind: Sendable, Hashable {
            /// A checksum mismatch.
            case checksum
            /// Not a valid header, frame, record layout or footer.
            case structure
            /// A frame that does not start at the next seq.
            case missing
            /// A frame whose records disagree with its header's count.
            case summary
        }

        var offset: Int64
        var seq: SequenceNumber?
        var kind: Kind
        var message: String

        /// The damage as an error naming the file, offset and seq.
        func error(in file: String) -> AuditLogError {
            AuditLogError(.corruption, message, location: .init(file: file, offset: offset, seq: seq))
        }
    }

    let file: any SegmentFile
    /// The segment's file name (`00000000000000000001.seg`).
    let name: String
    let header: SegmentHeader
    /// Bytes of the file the walk may read: the file size when opened, or a committed end.
    let limit: Int64
    /// Whether the walk may end in a torn tail (the last segment, not sealed).
    let mayEndTorn: Bool
    /// Where the next step starts.
    private(set) var offset = Int64(SegmentHeader.byteCount)
    /// The seq the next frame must start at.
    private(set) var nextSeq: SequenceNumber

    private var headBuffer = [UInt8](repeating: 0, count: SegmentFooter.byteCount)
    private var storedBuffer: [UInt8] = []
    /// The bytes at an offset already in `storedBuffer` (a frame read whole in one call, its
    /// length known from an index), which the step at that offset reads from there.
    private var preread: (offset: Int64, count: Int)?
    private var rawBuffer: [UInt8] = []
    private var rawCount = 0
    /// The byte ranges of the records of the frame last decompressed (an empty range for a
    /// record a sparse read left out: no record is empty).
    private(set) var records: [Range<Int>] = []
    /// Whether the frame last decompressed was rebuilt only in part (``Payload/sparse(_:)``).
    private(set) var isSparse = false

    /// How errors name the file: `segments/<name>`, or the archived object it is read from.
    var displayName: String { file.displayName }

    /// The file's size when the walk started (one `fstat` per walk).
    let fileSize: Int64

    /// The longest frame a reader accepts: a header and the largest stored payload.
    static let maxFrameBytes = Int64(FrameHeader.byteCount + FrameHeader.maxStoredPayloadBytes)

    /// Starts a walk of `file`, reading and checking its header.
    ///
    /// - Throws: ``AuditLogError`` (corruption, at the header's offset) for a header that does
    ///   not decode; I/O errors as they come.
    init(file: any SegmentFile, name: String, limit: Int64? = nil, mayEndTorn: Bool = false) throws(AuditLogError) {
        self.file = file
        self.name = name
        self.mayEndTorn = mayEndTorn
        let size = try file.size()
        fileSize = size
        self.limit = min(limit ?? size, size)
        var buffer: [UInt8] = []
        let n = try file.read(into: &buffer, count: SegmentHeader.byteCount, at: 0)
        do throws(FormatError) {
            header = try buffer.withRawBytes { (raw) throws(FormatError) in
                try SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
            }
        } catch {
            throw AuditLogError(error, file: file.displayName, baseOffset: 0)
        }
        nextSeq = header.firstSeq
    }

    /// Opens segment `name` of `directory` and starts a walk of it.
    convenience init(_ directory: LogDirectory, _ name: String, limit: Int64? = nil, mayEndTorn: Bool = false) throws(AuditLogError) {
        try self.init(file: try directory.open(name), name: name, limit: limit, mayEndTorn: mayEndTorn)
    }

    /// Continues from a known point: the end of a frame, and the seq after it.
    func resume(at offset: Int64, nextSeq: SequenceNumber) {
        self.offset = offset
        self.nextSeq = nextSeq
    }

    // MARK: Walking

    /// The next step. Frames must follow each other in seq order; a footer must end exactly at
    /// the limit. I/O errors are thrown; everything the bytes say is a ``Step``.
    func next(_ payload: Payload = .decompress) throws(AuditLogError) -> Step {
        let left = limit - offset
        if left <= 0 { return .end }
        let want = Int(min(Int64(SegmentFooter.byteCount), left))
        let got: Int
        if let preread, preread.offset == offset, preread.count >= want {
            headBuffer.removeAll(keepingCapacity: true)
            headBuffer.append(contentsOf: storedBuffer[0..<want])
            got = want
        } else {
            got = try file.read(into: &headBuffer, count: want, at: offset)
        }
        let decoded = headBuffer.withUnsafeBytes { raw -> Result<FrameOrFooter, FormatError> in
            Self.decodeHead(UnsafeRawBufferPointer(rebasing: raw[0..<got]))
        }
        switch decoded {
        case .failure(let error):
            // Damage where the footer belongs concerns the segment's last record.
            let isFooter = headBuffer.withUnsafeBytes { SegmentFooter.hasMagic(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            let seq = isFooter && nextSeq > header.firstSeq ? SequenceNumber(nextSeq.rawValue - 1) : nextSeq
            return try tornOrDamage(error, kind: error.kind == .checksumMismatch ? .checksum : .structure, seq: seq)
        case .success(.footer(let footer)):
            let end = offset + Int64(SegmentFooter.byteCount)
            guard end == limit else {
                return .damage(Damage(offset: end, seq: nil, kind: .structure, message: "\(limit - end) bytes after the footer"))
            }
            return .footer(footer, offset: offset)
        case .success(.frame(let h)):
            guard h.codec != .columns || header.allowsColumnFrames else {
                return .damage(Damage(offset: offset + 5, seq: nextSeq, kind: .structure, message: "frame of codec 2 (columns) in a version-\(header.version) segment"))
            }
            guard h.firstSeq == nextSeq else {
                return .damage(Damage(offset: offset, seq: nextSeq, kind: .missing, message: "frame starts at seq \(h.firstSeq), expected \(nextSeq)"))
            }
            let end = offset + Int64(h.frameLengthBytes)
            guard end <= limit else {
                if try hasDamagedLength(h) {
                    return .damage(
                        Damage(offset: offset + 8, seq: nextSeq, kind: .structure, message: "frame length field damaged: the frame is complete, its header says \(h.frameLengthBytes) bytes"))
                }
                let why = "frame of \(h.frameLengthBytes) bytes runs past the end of the file (\(left) bytes left)"
                if mayEndTorn { return .tornTail(offset: offset, reason: why) }
                return .damage(Damage(offset: offset, seq: nextSeq, kind: .structure, message: why))
            }
            if payload != .skip {
                let payload = payload.applied(to: h)
                if let error = try load(h, at: offset, payload) {
                    return try tornOrDamage(error, kind: error.kind == .checksumMismatch ? .checksum : .structure, seq: nextSeq)
                }
                if payload != .check, let problem = findRecords(h, payload) {
                    return .damage(Damage(offset: offset, seq: nextSeq, kind: problem.kind, message: problem.message))
                }
            }
            let start = offset
            offset = end
            nextSeq = SequenceNumber(h.firstSeq.rawValue + UInt64(h.recordCount))
            return .frame(h, offset: start)
        }
    }

    /// The footer at the end of the file when the segment is sealed (a valid footer whose data
    /// end is where it starts), else nil.
    func sealedFooter() throws(AuditLogError) -> SegmentFooter? {
        let at = fileSize - Int64(SegmentFooter.byteCount)
        guard at >= Int64(SegmentHeader.byteCount) else { return nil }
        var buffer: [UInt8] = []
        let n = try file.read(into: &buffer, count: SegmentFooter.byteCount, at: at)
        guard n == SegmentFooter.byteCount, let footer = buffer.withUnsafeBytes({ try? SegmentFooter.decode($0) }),
            footer.dataEndOffset == UInt64(at)
        else { return nil }
        return footer
    }

    // MARK: Random access inside committed data

    /// Loads the frame at `offset`, which an index or an earlier walk says holds `count`
    /// records from `firstSeq` (queries, lookups, checkpoints). Anything else there is damage.
    ///
    /// Not optimized: Swift 6.3.1's optimizer compiles this function (typed throws, the header
    /// taken out of ``Step``'s payload and returned) to code that copies only the header's
    /// record count into the result, leaving the rest uninitialized — in release builds the
    /// active segment's index checkpoint was then never trusted and every open re-read it
    /// (docs/PERFORMANCE.md, "A miscompiled frame lookup"). The body is one call.
    ///
    /// `length`, when the caller knows it (an index's next frame offset less this one), is
    /// only how much to read: the frame is read whole in one call instead of its header first,
    /// and checked as ever. A wrong one costs a second read, never a wrong answer.
    @_optimize(none)
    func frame(at offset: Int64, firstSeq: SequenceNumber, count: UInt32, payload: Payload = .decompress, length: Int64? = nil) throws(AuditLogError) -> FrameHeader {
        self.offset = offset
        nextSeq = firstSeq
        if let length, payload != .skip, length >= Int64(FrameHeader.byteCount), length <= Self.maxFrameBytes, length <= limit - offset {
            preread = (offset, try file.read(into: &storedBuffer, count: Int(length), at: offset))
        }
        defer { preread = nil }
        switch try next(payload) {
        case .frame(let h, _) where h.recordCount == count:
            return h
        case .damage(let damage):
            throw damage.error(in: displayName)
        default:
            throw AuditLogError(
                .corruption, "no frame of \(count) records from seq \(firstSeq) at this offset (the index points elsewhere)", location: .init(file: displayName, offset: offset, seq: firstSeq))
        }
    }

    // MARK: Records of the frame last decompressed

    /// Calls `body` with each record of the frame last decompressed and its seq.
    func forEachRecord<E: Error>(_ body: (SequenceNumber, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        let first = SequenceNumber(nextSeq.rawValue - UInt64(records.count))
        try rawBuffer.withRawBytes { (raw) throws(E) in
            for (i, range) in records.enumerated() {
                try body(SequenceNumber(first.rawValue + UInt64(i)), UnsafeRawBufferPointer(rebasing: raw[range]))
            }
        }
    }

    /// The decompressed payload of the frame last decompressed (its first ``rawCount`` bytes).
    func withPayload<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try rawBuffer.withRawBytes { (raw) throws(E) in try body(UnsafeRawBufferPointer(rebasing: raw[0..<rawCount])) }
    }

    /// That payload, handed over without a copy (for a cache that keeps it): the walker no
    /// longer holds it, and decompresses its next frame into a new buffer.
    func takePayload() -> [UInt8] {
        var out = rawBuffer
        rawBuffer = []
        if out.count > rawCount { out.removeSubrange(rawCount...) }
        rawCount = 0
        return out
    }

    // MARK: Deciding

    private enum FrameOrFooter {
        case frame(FrameHeader)
        case footer(SegmentFooter)
    }

    /// Decodes what the (up to 128) bytes at a position begin: a footer or a frame header.
    private static func decodeHead(_ bytes: UnsafeRawBufferPointer) -> Result<FrameOrFooter, FormatError> {
        if SegmentFooter.hasMagic(bytes) {
            guard bytes.count >= SegmentFooter.byteCount else {
                return .failure(FormatError(.truncated, "footer cut at \(bytes.count) of \(SegmentFooter.byteCount) bytes", offset: 0))
            }
            do throws(FormatError) { return .success(.footer(try SegmentFooter.decode(bytes))) } catch { return .failure(error) }
        }
        guard bytes.count >= FrameHeader.byteCount else {
            return .failure(FormatError(.truncated, "\(bytes.count) bytes where a frame header of \(FrameHeader.byteCount) belongs", offset: 0))
        }
        do throws(FormatError) {
            let h = try FrameHeader.decode(bytes)
            try h.validateShape()
            return .success(.frame(h))
        } catch {
            return .failure(error)
        }
    }

    /// A torn tail when the walk may end torn and the bytes from here to the limit are a torn
    /// write (``tornWrite()``); else damage, with `error`'s message.
    private func tornOrDamage(_ error: FormatError, kind: Damage.Kind, seq: SequenceNumber) throws(AuditLogError) -> Step {
        if mayEndTorn, let why = try tornWrite() {
            return .tornTail(offset: offset, reason: error.kind == .truncated ? why : "\(error.message); \(why)")
        }
        let message = mayEndTorn || error.kind != .truncated ? error.message : "incomplete frame in a sealed segment: \(error.message)"
        return .damage(Damage(offset: offset + Int64(error.offset), seq: seq, kind: kind, message: message))
    }

    /// Why the bytes from the current position to the limit are the remains of an
    /// interrupted write, or nil when they are not: a strict prefix of a frame header or a
    /// footer (a short write), or zero bytes from a 512-byte boundary after the position to the
    /// end (the file grew but its last sectors never reached the disk), or nothing but zeros,
    /// or a sector of zeros inside them (a power cut kept later sectors of an unsynced write
    /// but not that one: compressed frames never hold one) — a whole 512-byte sector, or the
    /// part of the sector holding the position from there on (the sector the last synced
    /// write ended in, as the disk still holds it: that write's bytes, then zeros). A complete
    /// frame or footer with a bad checksum and no such zeros is damage: a flipped bit, not a
    /// crash.
    func tornWrite() throws(AuditLogError) -> String? {
        let left = limit - offset
        guard left > 0 else { return nil }
        let zeros = try trailingZeroStart()
        if zeros == offset { return "\(left) zero bytes at the end" }
        let sector: Int64 = 512
        let boundary = (max(zeros, offset + 1) + sector - 1) / sector * sector
        if zeros < limit && boundary < limit {
            return "\(left) bytes of an interrupted write: zeros from byte offset \(zeros) to the end"
        }
        if let hole = try zeroSector(before: zeros) {
            return "\(left) bytes of an interrupted write: the sector at byte offset \(hole) never reached the disk (zeros), later ones did"
        }
        if let end = try zeroSectorEnd(before: zeros) {
            return "\(left) bytes of an interrupted write: its first bytes, to byte offset \(end) (the end of their sector), never reached the disk (zeros), later ones did"
        }
        if left < Int64(SegmentFooter.byteCount) {
            var bytes: [UInt8] = []
            let n = try file.read(into: &bytes, count: Int(left), at: offset)
            func isPrefix(of magic: UInt32) -> Bool {
                withUnsafeBytes(of: magic.littleEndian) { m in bytes.prefix(min(4, n)).elementsEqual(m.prefix(min(4, n))) }
            }
            if isPrefix(of: SegmentFooter.magic) { return "footer cut at \(n) of \(SegmentFooter.byteCount) bytes" }
            if n < FrameHeader.byteCount && isPrefix(of: FrameHeader.magic) { return "frame header cut at \(n) of \(FrameHeader.byteCount) bytes" }
        }
        return nil
    }

    /// The offset of the first 512-byte-aligned sector of zeros between the current position
    /// and `end`, nil when there is none.
    private func zeroSector(before end: Int64) throws(AuditLogError) -> Int64? {
        let sector: Int64 = 512
        var start = (offset + sector - 1) / sector * sector
        var chunk = [UInt8]()
        while start + sector <= end {
            let size = Int(min(65_536, (end - start) / sector * sector))
            let n = try file.read(into: &chunk, count: size, at: start)
            guard n == size else { return nil }
            let found: Int? = chunk.withUnsafeBytes { raw in
                stride(from: 0, to: n, by: Int(sector)).first { at in raw[at..<(at + Int(sector))].allSatisfy { $0 == 0 } }
            }
            if let found { return start + Int64(found) }
            start += Int64(size)
        }
        return nil
    }

    /// The end of the sector holding the current position when the bytes from the position
    /// to there are all zeros and more bytes follow before `end`, nil otherwise (or when the
    /// position starts a sector: ``zeroSector(before:)`` looks at whole ones).
    private func zeroSectorEnd(before end: Int64) throws(AuditLogError) -> Int64? {
        let sector: Int64 = 512
        let boundary = (offset / sector + 1) * sector
        guard offset % sector != 0, boundary < end else { return nil }
        var chunk = [UInt8]()
        let n = try file.read(into: &chunk, count: Int(boundary - offset), at: offset)
        guard n == Int(boundary - offset), chunk.prefix(n).allSatisfy({ $0 == 0 }) else { return nil }
        return boundary
    }

    /// Where the run of zero bytes that ends the readable bytes starts (the limit when the last
    /// byte is not zero). Reads backwards, only as far as the zeros go.
    private func trailingZeroStart() throws(AuditLogError) -> Int64 {
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

    /// Whether a frame whose header says it runs past the limit is in fact complete, its length
    /// field damaged: the bytes present, taken as the whole frame, match its checksum once its
    /// stored length says so. (A torn write cannot: its bytes end short of what the checksum
    /// covers.)
    private func hasDamagedLength(_ h: FrameHeader) throws(AuditLogError) -> Bool {
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

    /// Reads a frame's payload, checks its checksum and decodes it as `payload` (already
    /// ``Payload/applied(to:)`` the header) says.
    /// Returns what is wrong (offset relative to the frame), nil when it is sound.
    private func load(_ h: FrameHeader, at offset: Int64, _ payload: Payload) throws(AuditLogError) -> FormatError? {
        let length = h.frameLengthBytes
        let n: Int
        if let preread, preread.offset == offset, preread.count >= length {
            n = length
        } else {
            n = try file.read(into: &storedBuffer, count: length, at: offset)
        }
        do throws(FormatError) {
            try storedBuffer.withRawBytes { (frame) throws(FormatError) in
                let frame = UnsafeRawBufferPointer(rebasing: frame[0..<n])
                switch payload {
                case .sparse(let ordinals) where h.codec == .lz4:
                    rawCount = try h.unpackPrefix(frame, bytes: Payload.prefixEstimate(through: ordinals.last ?? 0, of: h), into: &rawBuffer)
                case .sparse(let ordinals): rawCount = try h.unpackColumns(frame, only: ordinals, into: &rawBuffer)
                case .fields(let mask): rawCount = try h.unpackColumns(frame, fields: mask, into: &rawBuffer)
                case .skip, .check: try h.unpack(frame, decompress: false, into: &rawBuffer)
                case .decompress:
                    try h.unpack(frame, into: &rawBuffer)
                    rawCount = Int(h.rawLengthBytes)
                }
            }
        } catch {
            return error
        }
        return nil
    }

    /// Finds the records of the payload just decompressed; what is wrong when they do not fill
    /// it exactly or disagree with the header's count.
    private func findRecords(_ h: FrameHeader, _ payload: Payload) -> (kind: Damage.Kind, message: String)? {
        var ordinals: [Int]?
        if case .sparse(let some) = payload { ordinals = some }
        if h.codec == .lz4, let last = ordinals?.last {
            // A prefix of a row frame: its records up to the last asked for, when it holds them;
            // else the frame whole, checked as ever.
            if findRecords(through: last, of: Int(h.recordCount)) { return nil }
            do throws(FormatError) {
                try storedBuffer.withRawBytes { (frame) throws(FormatError) in
                    try h.unpack(UnsafeRawBufferPointer(rebasing: frame[0..<min(frame.count, h.frameLengthBytes)]), into: &rawBuffer)
                }
            } catch {
                return (.structure, "undecodable frame payload: \(error.message)")
            }
            rawCount = Int(h.rawLengthBytes)
            ordinals = nil
        }
        // Filled as a local (one exclusive access, not one a record), then put back.
        var found = records
        records = []
        found.removeAll(keepingCapacity: true)
        isSparse = ordinals != nil
        defer { records = found }
        do throws(FormatError) {
            try rawBuffer.withRawBytes { (raw) throws(FormatError) in
                var it = FramePayloadIterator(UnsafeRawBufferPointer(rebasing: raw[0..<rawCount]))
                guard let ordinals else {
                    while let range = try it.nextRange() { found.append(range) }
                    return
                }
                // The entries of the records asked for, in order; every other record empty.
                found.append(contentsOf: repeatElement(0..<0, count: Int(h.recordCount)))
                for ordinal in ordinals {
                    guard let range = try it.nextRange() else { break }
                    found[ordinal] = range
                }
            }
        } catch {
            return (.structure, "undecodable frame payload: \(error.message)")
        }
        let count = ordinals == nil ? found.count : found.count { !$0.isEmpty }
        guard count == (ordinals?.count ?? Int(h.recordCount)) else {
            return (.summary, "frame holds \(count) records, header says \(ordinals?.count ?? Int(h.recordCount))")
        }
        return nil
    }

    /// Finds the records 0 through `last` (of `count`) in the prefix just decompressed, every
    /// later one left empty; false when the prefix ends before `last` is whole.
    private func findRecords(through last: Int, of count: Int) -> Bool {
        guard last < count else { return false }
        var found = records
        records = []
        found.removeAll(keepingCapacity: true)
        found.append(contentsOf: repeatElement(0..<0, count: count))
        defer { records = found }
        isSparse = true
        return rawBuffer.withRawBytes { raw in
            var it = FramePayloadIterator(UnsafeRawBufferPointer(rebasing: raw[0..<rawCount]))
            for i in 0...last {
                guard let range = try? it.nextRange(), !range.isEmpty else { return false }
                found[i] = range
            }
            return true
        }
    }
}
