// Column sections in blocks (index format versions 4 and 5, docs/FORMAT.md "Column blocks"): each
// per-record column is stored as independently compressed blocks of a fixed number of records
// behind a checksummed block table, so that a query reading the last hour of a segment
// decompresses the blocks of that hour only, not the whole column. The frame directory is
// stored as fixed-width entries, read without a decompression or a varint.
extension IndexFile {
    /// Records a column block holds (the last block of a segment may hold fewer).
    static let blockRecords = 4_096
    /// Codec of a section stored in blocks (directory entry), beside 0 raw and 1 LZ4.
    static let blockedCodec: UInt32 = 2
    /// Bytes of a block table before its entries, of an entry, and of its checksum.
    static let blockTableHeaderBytes = 12
    static let blockEntryBytes = 16
    /// Bytes of a frame directory entry in version 4.
    static let frameEntryBytes = 36

    // MARK: Writing

    /// Appends per-record column `section` of `data` in blocks of `blockRecords` to
    /// `buffers.file` (its stored bytes: the block table, then the blocks); returns the raw
    /// bytes its blocks hold. `bitPacked` (format 5) packs dimension codes in bits, else they
    /// take 1, 2 or 4 bytes (format 4).
    static func encodeBlocked(_ section: Section, _ data: IndexData, blockRecords: Int = blockRecords, bitPacked: Bool, into buffers: inout EncodeBuffers) -> Int {
        let c = data.columns
        let n = c.count
        var parameter: UInt8 = 0
        var unit: Int64 = 1
        var width = 1
        switch section {
        case .timestamps:
            let k = DeltaCoding.timeUnitExponent(c.timestamps)
            parameter = UInt8(k)
            unit = DeltaCoding.powersOf10[k]
        default:
            if let column = section.column {
                let size = data.dictionaries[column].count
                width = bitPacked ? PackedCodes.bits(toHold: size) : codeWidth(dictionarySize: size)
                parameter = UInt8(width)
            }
        }
        let blockCount = (n + blockRecords - 1) / blockRecords
        // The table goes first; each entry is filled in once its block is written.
        let table = buffers.file.count
        let tableBytes = blockTableHeaderBytes + blockCount * blockEntryBytes
        buffers.file.write(UInt32(blockRecords))
        buffers.file.write(UInt32(blockCount))
        buffers.file.write(parameter)
        buffers.file.write(bytes: repeatElement(0, count: tableBytes - 9 + 8))
        var rawTotal = 0
        for b in 0..<blockCount {
            let range = (b * blockRecords)..<min(n, (b + 1) * blockRecords)
            buffers.section.removeAll()
            switch section {
            case .timestamps:
                var previous: Int64 = 0
                for ts in c.timestamps[range] {
                    let scaled = ts / unit
                    buffers.section.writeVarint(DeltaCoding.zigzag(scaled &- previous))
                    previous = scaled
                }
            case .verdicts: buffers.section.write(bytes: c.verdicts[range])
            case .cacheHits: buffers.section.write(bytes: c.cacheHits[range])
            case .metrics:
                for column in [c.tokensIn, c.tokensOut, c.costNanos, c.latencyMicros] {
                    for v in column[range] { buffers.section.writeVarint(UInt64(bitPattern: v &+ 1)) }
                }
            default:
                guard let column = section.column else { break }
                if bitPacked {
                    PackedCodes.append(c.dims[column][range], bits: width, to: &buffers.section.bytes)
                } else {
                    writeCodes(c.dims[column][range], width: width, to: &buffers.section)
                }
            }
            let start = buffers.file.count
            _ = buffers.appendSection()
            let entry = table + blockTableHeaderBytes + b * blockEntryBytes
            buffers.file.patch(UInt32(buffers.file.count - start), at: entry)
            buffers.file.patch(UInt32(buffers.section.count), at: entry + 4)
            buffers.file.patch(buffers.file.checksum(start..<buffers.file.count), at: entry + 8)
            rawTotal += buffers.section.count
        }
        buffers.file.patch(buffers.file.checksum(table..<(table + tableBytes)), at: table + tableBytes)
        return rawTotal
    }

    /// Version 4's frame directory: fixed-width entries, no count (the section's length says it).
    static func encodeFixedFrames(_ frames: [FrameEntry], to w: inout ByteWriter) {
        for f in frames {
            w.write(UInt64(f.offset))
            w.write(f.firstSeq.rawValue)
            w.write(f.recordCount)
            w.write(f.minTimestampNanos)
            w.write(f.maxTimestampNanos)
        }
    }

    // MARK: Reading

    static func decodeFixedFrames(_ bytes: [UInt8], recordCount: UInt64) throws(FormatError) -> [FrameEntry] {
        guard bytes.count % frameEntryBytes == 0 else { throw FormatError(.malformed, "frame directory of \(bytes.count) bytes", offset: 0) }
        let count = bytes.count / frameEntryBytes
        guard UInt64(count) <= recordCount else { throw FormatError(.malformed, "\(count) frames for \(recordCount) records", offset: 0) }
        return try bytes.withRawBytes { (raw) throws(FormatError) in
            var out: [FrameEntry] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                let base = i * frameEntryBytes
                func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + o, as: UInt64.self)) }
                let offset = u64(0)
                guard offset <= UInt64(Int64.max) else { throw FormatError(.malformed, "frame entry \(i) offset", offset: base) }
                let records = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 16, as: UInt32.self))
                out.append(
                    FrameEntry(
                        offset: Int64(offset), firstSeq: SequenceNumber(u64(8)), recordCount: records,
                        minTimestampNanos: Int64(bitPattern: u64(20)), maxTimestampNanos: Int64(bitPattern: u64(28))))
            }
            return out
        }
    }

    /// The block table of a section stored in blocks, checked against the record count and the
    /// section's directory entry.
    struct BlockTable {
        var blockRecords: Int
        var parameter: UInt8
        /// Whether dimension codes are packed in `parameter` bits (format 5), not bytes.
        var bitPacked = false
        /// Per block: where its stored bytes begin (from the section's start), their length, the
        /// raw length, and their checksum.
        var blocks: [(start: Int, stored: Int, raw: Int, checksum: UInt64)]

        /// Bytes of the table, checksum included, for `count` blocks.
        static func bytes(blocks count: Int) -> Int { blockTableHeaderBytes + count * blockEntryBytes + 8 }

        /// The number of blocks for `records` records, from the table's first 8 bytes (nil when
        /// they do not describe a table for that many records).
        static func blockCount(header raw: UnsafeRawBufferPointer, records: Int) -> Int? {
            guard raw.count >= 8 else { return nil }
            let per = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            let count = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            guard per >= 1, per <= 1 << 20, count == (records + per - 1) / per else { return nil }
            return count
        }

        /// Parses the table at the start of `raw` (at least ``bytes(blocks:)`` bytes), for a
        /// section of `storedLength` bytes holding `rawLength` raw bytes of `records` records.
        init(_ raw: UnsafeRawBufferPointer, records: Int, storedLength: Int, rawLength: Int) throws(FormatError) {
            guard let count = Self.blockCount(header: raw, records: records) else { throw FormatError(.malformed, "block table does not fit \(records) records", offset: 0) }
            let size = Self.bytes(blocks: count)
            guard raw.count >= size, storedLength >= size else { throw FormatError(.truncated, "block table of \(count) blocks", offset: 0) }
            let checksum = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: size - 8, as: UInt64.self))
            guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: raw[0..<(size - 8)])) == checksum else { throw FormatError(.malformed, "block table checksum mismatch", offset: 0) }
            blockRecords = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            parameter = raw[8]
            guard raw[9] == 0, raw[10] == 0, raw[11] == 0 else { throw FormatError(.malformed, "block table reserved bytes", offset: 9) }
            blocks = []
            blocks.reserveCapacity(count)
            var start = size
            var rawTotal = 0
            for b in 0..<count {
                let base = blockTableHeaderBytes + b * blockEntryBytes
                let stored = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base, as: UInt32.self)))
                let rawBytes = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self)))
                let sum = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self))
                // A block holds at most 41 bytes a record (four 10-byte varints and a byte).
                let records = min(blockRecords, records - b * blockRecords)
                guard stored >= 1 || rawBytes == 0, stored <= rawBytes, rawBytes <= records * 41, stored <= storedLength - start else {
                    throw FormatError(.malformed, "block \(b): \(stored) stored bytes for \(rawBytes) raw", offset: base)
                }
                blocks.append((start, stored, rawBytes, sum))
                start += stored
                rawTotal += rawBytes
            }
            guard start == storedLength, rawTotal == rawLength else {
                throw FormatError(.malformed, "blocks hold \(start) stored and \(rawTotal) raw bytes; the directory says \(storedLength) and \(rawLength)", offset: 0)
            }
        }

        /// The records of block `b` among `records`.
        func range(_ b: Int, records: Int) -> Range<Int> { (b * blockRecords)..<min(records, (b + 1) * blockRecords) }
    }

    /// Decodes the raw bytes of one block of `part` into `columns` (full length) at `range`,
    /// checking every value as the whole-section decoders do.
    static func decodeBlock(
        _ part: IndexStore.Part, _ raw: UnsafeRawBufferPointer, range: Range<Int>, parameter: UInt8, bitPacked: Bool, dictionarySizes: [Int], into c: inout IndexColumns
    ) throws(FormatError) {
        var r = ByteReader(raw)
        switch part {
        case .timestamps:
            guard parameter <= 9 else { throw FormatError(.malformed, "time unit 10^\(parameter) ns", offset: 0) }
            let unit = DeltaCoding.powersOf10[Int(parameter)]
            var previous: Int64 = 0
            try c.timestamps.withUnsafeMutableBufferPointer { (out) throws(FormatError) in
                for i in range {
                    previous = previous &+ DeltaCoding.unzigzag(try r.readVarint())
                    let (time, overflow) = previous.multipliedReportingOverflow(by: unit)
                    guard previous >= 0, !overflow else { throw FormatError(.malformed, "event time out of range", offset: r.offset) }
                    out[i] = time
                }
            }
        case .verdicts, .cacheHits:
            let maxValue: UInt8 = part == .verdicts ? 4 : 2
            let bytes = try r.readBytes(range.count)
            var largest: UInt8 = 0
            for b in bytes { largest = max(largest, b) }
            guard largest <= maxValue else { throw FormatError(.malformed, "column value above \(maxValue)", offset: 0) }
            func copy(_ out: inout [UInt8]) {
                out.withUnsafeMutableBytes { dst in
                    if let base = dst.baseAddress, let src = bytes.baseAddress { (base + range.lowerBound).copyMemory(from: src, byteCount: range.count) }
                }
            }
            if part == .verdicts { copy(&c.verdicts) } else { copy(&c.cacheHits) }
        case .metrics:
            for m in 0..<4 {
                func fill(_ out: inout [Int64]) throws(FormatError) {
                    try out.withUnsafeMutableBufferPointer { (out) throws(FormatError) in
                        for i in range { out[i] = Int64(bitPattern: try r.readVarint()) &- 1 }
                    }
                }
                switch m {
                case 0: try fill(&c.tokensIn)
                case 1: try fill(&c.tokensOut)
                case 2: try fill(&c.costNanos)
                default: try fill(&c.latencyMicros)
                }
            }
        case .dimension(let dimension):
            guard let column = dimension.column else { return }
            let size = UInt32(dictionarySizes[column])
            var maxCode: UInt32 = 0
            if bitPacked {
                let bits = Int(parameter)
                guard bits <= 32 else { throw FormatError(.malformed, "code width of \(bits) bits", offset: 0) }
                let codes = try r.readBytes((range.count * bits + 7) / 8)
                try c.dims[column].withMutableElements { (out) throws(FormatError) in
                    try unpackCodes(codes, count: range.count, bits: bits) { j, v in
                        out[range.lowerBound + j] = v
                        maxCode = max(maxCode, v)
                    }
                }
            } else {
                let width = Int(parameter)
                guard [1, 2, 4].contains(width) else { throw FormatError(.malformed, "code width \(width)", offset: 0) }
                let codes = try r.readBytes(range.count * width)
                c.dims[column].withUnsafeMutableBufferPointer { out in
                    for (j, i) in range.enumerated() {
                        let v: UInt32
                        switch width {
                        case 1: v = UInt32(codes[j])
                        case 2: v = UInt32(UInt16(littleEndian: codes.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)))
                        default: v = UInt32(littleEndian: codes.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))
                        }
                        out[i] = v
                        maxCode = max(maxCode, v)
                    }
                }
            }
            guard maxCode <= size else { throw FormatError(.malformed, "code \(maxCode) beyond its dictionary of \(size)", offset: 0) }
        default:
            return
        }
        guard r.isAtEnd else { throw FormatError(.malformed, "block holds \(r.remaining) bytes past its \(range.count) records", offset: r.offset) }
    }
}

extension IndexFile {
    /// Calls `body` with the index and value of each of `count` codes of `bits` bits (at most
    /// 32) packed least significant bit first in `packed` (exactly ⌈count × bits / 8⌉ bytes, as
    /// ``PackedCodes/append(_:bits:to:)`` writes them); bits set past the last code are damage.
    @inline(__always)
    static func unpackCodes(_ packed: UnsafeRawBufferPointer, count: Int, bits: Int, _ body: (Int, UInt32) -> Void) throws(FormatError) {
        guard bits <= 32, packed.count == (count * bits + 7) / 8 else { throw FormatError(.malformed, "\(packed.count) bytes for \(count) codes of \(bits) bits", offset: 0) }
        var pending: UInt64 = 0
        var filled = 0
        var next = 0
        let mask: UInt64 = (1 << UInt64(bits)) - 1
        for j in 0..<count {
            while filled < bits {
                pending |= UInt64(packed[next]) << UInt64(filled)
                next += 1
                filled += 8
            }
            body(j, UInt32(truncatingIfNeeded: pending & mask))
            pending >>= UInt64(bits)
            filled -= bits
        }
        guard pending == 0 else { throw FormatError(.malformed, "bits set past the last code", offset: packed.count - 1) }
    }
}

extension IndexFile.Section {
    /// The per-record column sections, stored in blocks from version 4 on.
    var isBlocked: Bool {
        switch self {
        case .timestamps, .verdicts, .cacheHits, .metrics: true
        default: column != nil
        }
    }
}
