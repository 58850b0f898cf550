/// Writes a frame's records as codec 2 (docs/FORMAT.md, "Column frames"). A writer keeps one
/// and encodes frame after frame with it: its columns, value tables and buffers are reused.
struct FrameColumnEncoder {
    /// Where a string value lies in the payload being encoded.
    private struct Ref {
        var offset: Int32
        var length: Int32
    }

    /// Per record, per section: where its bytes lie in the payload (length -1: none).
    private var refs: [Ref] = []
    /// One string section's values, gathered from `refs`.
    private var column: [Ref] = []
    private var values = ValueCodes()
    private var prefixes = ValueCodes()
    private var codes: [UInt32] = []
    private var digitCounts: [Int32] = []
    private var body: [UInt8] = []
    private var compressed: [UInt8] = []

    /// Room kept at the front of the body for the section lengths (28 varints of up to 5 bytes).
    private static let tableRoom = FrameColumns.Section.count * 5

    init() {}

    /// Encodes `payload` (a raw frame payload: `recordCount` entries of a varint length and a
    /// record) and appends the stored payload to `out`: the body's length, then the body as one
    /// LZ4 block. Returns the bytes appended, or nil — appending nothing — when a record does
    /// not split by the record grammar or the body does not compress (the caller then stores
    /// the frame with codec 1 or 0).
    mutating func encode(_ payload: UnsafeRawBufferPointer, recordCount n: Int, into out: inout [UInt8]) -> Int? {
        refs.removeAll(keepingCapacity: true)
        refs.append(contentsOf: repeatElement(Ref(offset: 0, length: -1), count: n * FrameColumns.Section.count))
        do throws(FormatError) {
            var r = ByteReader(payload)
            try refs.withUnsafeMutableBufferPointer { (refs) throws(FormatError) in
                for i in 0..<n { try Self.split(&r, into: refs, at: i * FrameColumns.Section.count) }
            }
            guard r.isAtEnd else { return nil }
        } catch {
            return nil
        }
        var w: [UInt8] = []
        swap(&w, &body)
        defer { swap(&w, &body) }
        w.removeAll(keepingCapacity: true)
        w.append(contentsOf: repeatElement(0, count: Self.tableRoom))
        var lengths = [Int](repeating: 0, count: FrameColumns.Section.count)
        for section in 0..<FrameColumns.Section.count {
            let start = w.count
            writeSection(section, n, payload, to: &w)
            lengths[section] = w.count - start
        }
        var table: [UInt8] = []
        for length in lengths { table.appendVarint(UInt64(length)) }
        let first = Self.tableRoom - table.count
        w.replaceSubrange(first..<Self.tableRoom, with: table)
        let bodyLength = w.count - first
        guard bodyLength <= FrameColumns.maxBodyBytes,
            let size = w.withUnsafeBytes({ Compression.compress(UnsafeRawBufferPointer(rebasing: $0[first...]), into: &compressed) })
        else { return nil }
        out.appendLittleEndian(UInt32(bodyLength))
        out.append(contentsOf: compressed[0..<size])
        return 4 + size
    }

    /// Splits entry `i`'s record: where each of its sections' bytes lie, into `refs[base...]`.
    private static func split(_ r: inout ByteReader, into refs: UnsafeMutableBufferPointer<Ref>, at base: Int) throws(FormatError) {
        let length = try r.readVarint()
        guard length <= UInt64(r.remaining) else { throw FormatError(.truncated, "record", offset: r.offset) }
        let end = r.offset + Int(length)
        refs[base + FrameColumns.Section.times] = Ref(offset: Int32(r.offset), length: 8)
        let time = try r.readInt64()
        refs[base + FrameColumns.Section.presences] = Ref(offset: Int32(r.offset), length: 4)
        let presence = try r.readUInt32()
        guard time >= 0, presence & ~FrameColumns.knownMask == 0 else { throw FormatError(.malformed, "record", offset: r.offset) }
        if presence & FrameColumns.compactIDMask != 0 {
            refs[base + FrameColumns.Section.idTimes] = Ref(offset: Int32(r.offset), length: 16)
            _ = try r.readBytes(16)
        } else {
            refs[base + FrameColumns.Section.textIDs] = try string(&r)
        }
        refs[base + FrameColumns.Section.eventTypes] = try string(&r)
        var bits = presence & ((1 << 21) - 1)
        while bits != 0 {
            let bit = bits.trailingZeroBitCount
            bits &= bits - 1
            let start = r.offset
            switch FrameColumns.fieldKinds[bit] {
            case .byte: _ = try r.readUInt8()
            case .string:
                refs[base + FrameColumns.Section.field(bit)] = try string(&r)
                continue
            case .varint: _ = try r.readVarint()
            }
            refs[base + FrameColumns.Section.field(bit)] = Ref(offset: Int32(start), length: Int32(r.offset - start))
        }
        if presence & FrameColumns.tailMask != 0 {
            guard end >= r.offset else { throw FormatError(.truncated, "record", offset: r.offset) }
            refs[base + FrameColumns.Section.tail] = Ref(offset: Int32(r.offset), length: Int32(end - r.offset))
            _ = try r.readBytes(end - r.offset)
        }
        guard r.offset == end else { throw FormatError(.malformed, "record", offset: r.offset) }
    }

    private static func string(_ r: inout ByteReader) throws(FormatError) -> Ref {
        let (bytes, _) = try r.readStringBytes()
        return Ref(offset: Int32(truncatingIfNeeded: r.offset - bytes.count), length: Int32(truncatingIfNeeded: bytes.count))
    }

    /// Writes section `section` of the `n` records split into `refs`.
    private mutating func writeSection(_ section: Int, _ n: Int, _ payload: UnsafeRawBufferPointer, to w: inout [UInt8]) {
        let stride = FrameColumns.Section.count
        switch section {
        case FrameColumns.Section.times:
            let refs = refs
            let times = (0..<n).lazy.map { i in Int64(littleEndian: payload.loadUnaligned(fromByteOffset: Int(refs[i * stride].offset), as: Int64.self)) }
            let k = DeltaCoding.timeUnitExponent(times)
            let unit = DeltaCoding.powersOf10[k]
            w.append(UInt8(k))
            var previous: Int64 = 0
            for time in times {
                let scaled = time / unit
                w.appendVarint(DeltaCoding.zigzag(scaled &- previous))
                previous = scaled
            }
        case FrameColumns.Section.presences:
            for i in 0..<n {
                let presence = UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: Int(refs[i * stride + section].offset), as: UInt32.self))
                w.appendVarint(UInt64(presence))
            }
        case FrameColumns.Section.idTimes, FrameColumns.Section.idRandom:
            for i in 0..<n {
                let ref = refs[i * stride + FrameColumns.Section.idTimes]
                guard ref.length >= 0 else { continue }
                let high = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: Int(ref.offset), as: UInt64.self))
                if section == FrameColumns.Section.idTimes {
                    let time = Int64(littleEndian: payload.loadUnaligned(fromByteOffset: Int(refs[i * stride].offset), as: Int64.self))
                    w.appendVarint(DeltaCoding.zigzag(Int64(high >> 16) - time / 1_000_000))
                } else {
                    w.append(UInt8(truncatingIfNeeded: high))
                    w.append(UInt8(truncatingIfNeeded: high >> 8))
                    w.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[Int(ref.offset + 8)..<Int(ref.offset + 16)]))
                }
            }
        case FrameColumns.Section.tail:
            for i in 0..<n {
                let ref = refs[i * stride + section]
                guard ref.length >= 0 else { continue }
                w.appendVarint(UInt64(ref.length))
                w.append(contentsOf: bytes(ref, payload))
            }
        case FrameColumns.Section.textIDs, FrameColumns.Section.eventTypes:
            writeStrings(section, n, payload, to: &w)
        default:
            let bit = section - FrameColumns.Section.field(0)
            if FrameColumns.fieldKinds[bit] == .string { return writeStrings(section, n, payload, to: &w) }
            for i in 0..<n {
                let ref = refs[i * stride + section]
                if ref.length >= 0 { w.append(contentsOf: bytes(ref, payload)) }
            }
        }
    }

    /// A string section in whichever mode is smallest before compression.
    private mutating func writeStrings(_ section: Int, _ n: Int, _ payload: UnsafeRawBufferPointer, to w: inout [UInt8]) {
        column.removeAll(keepingCapacity: true)
        for i in 0..<n {
            let ref = refs[i * FrameColumns.Section.count + section]
            if ref.length >= 0 { column.append(ref) }
        }
        let m = column.count
        guard m > 0 else { return }
        let refs = column
        var plainBytes = 0
        for ref in refs { plainBytes += Int(ref.length) + 1 }
        // A dictionary when values repeat: tried only while they do (the first 32 values of a
        // request id column are 32 distinct ones, and the rest are not hashed).
        values.removeAll()
        codes.removeAll(keepingCapacity: true)
        var repeats = true
        for ref in refs {
            let value = bytes(ref, payload)
            let hash = ValueCodes.hash(value)
            codes.append((values.code(of: value, hash: hash) ?? values.insert(value, hash: hash)) - 1)
            if codes.count == 32 && values.count > 24 {
                repeats = false
                break
            }
        }
        if repeats {
            let width = PackedCodes.bits(toHold: values.count - 1)
            let dictionaryBytes = values.byteCount + values.count + (m * width + 7) / 8 + 2
            if dictionaryBytes * 2 <= plainBytes {
                w.append(FrameColumns.Mode.dictionary.rawValue)
                writeTable(values, codes: codes, to: &w)
                return
            }
        }
        // Many distinct values: try a prefix table and hex digits packed two to a byte.
        prefixes.removeAll()
        codes.removeAll(keepingCapacity: true)
        digitCounts.removeAll(keepingCapacity: true)
        var hexBytes = 0
        for ref in refs {
            let value = bytes(ref, payload)
            var cut = value.count
            while cut > 0 && FrameColumns.isHexDigit(value[cut - 1]) { cut -= 1 }
            let prefix = UnsafeRawBufferPointer(rebasing: value[0..<cut])
            let hash = ValueCodes.hash(prefix)
            codes.append((prefixes.code(of: prefix, hash: hash) ?? prefixes.insert(prefix, hash: hash)) - 1)
            digitCounts.append(Int32(value.count - cut))
            hexBytes += 1 + (value.count - cut + 1) / 2
        }
        hexBytes += prefixes.byteCount + prefixes.count + (m * PackedCodes.bits(toHold: prefixes.count - 1) + 7) / 8 + 2
        guard hexBytes < plainBytes else {
            w.append(FrameColumns.Mode.plain.rawValue)
            for ref in refs {
                let value = bytes(ref, payload)
                w.appendVarint(UInt64(value.count))
                w.append(contentsOf: value)
            }
            return
        }
        w.append(FrameColumns.Mode.hexSuffix.rawValue)
        writeTable(prefixes, codes: codes, to: &w)
        for count in digitCounts { w.appendVarint(UInt64(count)) }
        for (ref, count) in zip(refs, digitCounts) {
            let value = bytes(ref, payload)
            var i = value.count - Int(count)
            while i < value.count {
                let high = FrameColumns.hexValue(value[i]) << 4
                let low = i + 1 < value.count ? FrameColumns.hexValue(value[i + 1]) : 0
                w.append(high | low)
                i += 2
            }
        }
    }

    /// A value table and codes: the count, the values as `str`s, the code width, the packed codes.
    private func writeTable(_ table: ValueCodes, codes: [UInt32], to w: inout [UInt8]) {
        w.appendVarint(UInt64(table.count))
        for i in 0..<table.count {
            table.withValue(i) { value in
                w.appendVarint(UInt64(value.count))
                w.append(contentsOf: value)
            }
        }
        let width = PackedCodes.bits(toHold: table.count - 1)
        w.append(UInt8(width))
        PackedCodes.append(codes, bits: width, to: &w)
    }

    private func bytes(_ ref: Ref, _ payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: payload[Int(ref.offset)..<Int(ref.offset + ref.length)])
    }
}
