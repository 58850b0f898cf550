/// A bounds-checked cursor over borrowed bytes: reads little-endian fixed widths, varints and
/// strs, and throws ``FormatError`` with the byte offset instead of reading past the end.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    var remaining: Int { buffer.count - offset }
    var isAtEnd: Bool { offset >= buffer.count }

    @inline(__always)
    private func need(_ n: Int, _ what: StaticString) throws(FormatError) {
        guard n >= 0, n <= buffer.count - offset else { throw shortfall(n, what) }
    }

    /// The error of ``need(_:_:)``, out of line so the check inlines into every read.
    @inline(never)
    private func shortfall(_ n: Int, _ what: StaticString) -> FormatError {
        FormatError(.truncated, "\(what) needs \(n) bytes, \(buffer.count - offset) left", offset: offset)
    }

    mutating func readUInt8(_ what: StaticString = "byte") throws(FormatError) -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func readUInt16(_ what: StaticString = "u16") throws(FormatError) -> UInt16 {
        try need(2, what)
        defer { offset += 2 }
        return UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    mutating func readUInt32(_ what: StaticString = "u32") throws(FormatError) -> UInt32 {
        try need(4, what)
        defer { offset += 4 }
        return UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func readUInt64(_ what: StaticString = "u64") throws(FormatError) -> UInt64 {
        try need(8, what)
        defer { offset += 8 }
        return UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func readInt64(_ what: StaticString = "i64") throws(FormatError) -> Int64 {
        Int64(bitPattern: try readUInt64(what))
    }

    @inline(__always)
    mutating func readVarint(_ what: StaticString = "varint") throws(FormatError) -> UInt64 {
        // Most varints (lengths, counts, small numbers) are one byte.
        if offset < buffer.count {
            let byte = buffer[offset]
            if byte < 0x80 {
                offset += 1
                return UInt64(byte)
            }
        }
        return try readLongVarint(what)
    }

    private mutating func readLongVarint(_ what: StaticString) throws(FormatError) -> UInt64 {
        let start = offset
        // With 8 bytes at hand, a varint of up to 8 bytes (56 bits: offsets, seqs, times) is
        // read from one word: its end is the first byte without the high bit.
        if buffer.count - offset >= 8 {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let ends = ~word & 0x8080_8080_8080_8080
            if ends != 0 {
                let length = (ends.trailingZeroBitCount + 1) / 8
                guard length == 1 || word >> UInt64(length * 8 - 8) & 0xFF != 0 else {
                    throw FormatError(.malformed, "\(what) is not in its shortest form", offset: start)
                }
                var result: UInt64 = 0
                for i in 0..<length { result |= (word >> UInt64(8 * i) & 0x7F) << UInt64(7 * i) }
                offset += length
                return result
            }
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < buffer.count else {
                throw FormatError(.truncated, "\(what) runs past the end", offset: start)
            }
            let byte = buffer[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw FormatError(.malformed, "\(what) overflows 64 bits", offset: start)
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // Canonical form only: a last byte of zero after others is an overlong encoding
                // (the same value has a shorter one), which FORMAT.md forbids.
                guard byte != 0 || shift == 0 else {
                    throw FormatError(.malformed, "\(what) is not in its shortest form", offset: start)
                }
                return result
            }
            shift += 7
            if shift > 63 {
                throw FormatError(.malformed, "\(what) overflows 64 bits", offset: start)
            }
        }
    }

    /// The bytes of the next varint (at most 10, the last without its high bit), not decoded:
    /// a column frame copies a record's varints as they are.
    @inline(__always)
    mutating func readVarintBytes() throws(FormatError) -> UnsafeRawBufferPointer {
        let start = offset
        if buffer.count - offset >= 8 {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let ends = ~word & 0x8080_8080_8080_8080
            if ends != 0 {
                offset += (ends.trailingZeroBitCount + 1) / 8
                return UnsafeRawBufferPointer(rebasing: buffer[start..<offset])
            }
        }
        while true {
            guard offset < buffer.count else { throw FormatError(.truncated, "varint runs past the end", offset: start) }
            let byte = buffer[offset]
            offset += 1
            if byte < 0x80 { break }
            guard offset - start < 10 else { throw FormatError(.malformed, "varint longer than 10 bytes", offset: start) }
        }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<offset])
    }

    /// Moves past the next `count` varints without decoding them: eight bytes at a time, each
    /// byte without the high bit ending one (a column frame's sparse read steps over values).
    mutating func skipVarints(_ count: Int, _ what: StaticString = "varint") throws(FormatError) {
        var left = count
        while left > 0 && buffer.count - offset >= 8 {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            var ends = ~word & 0x8080_8080_8080_8080
            let found = ends.nonzeroBitCount
            if found == 0 {
                offset += 8
            } else if found <= left {
                left -= found
                offset += (63 - ends.leadingZeroBitCount) / 8 + 1
            } else {
                for _ in 1..<left { ends &= ends - 1 }
                offset += ends.trailingZeroBitCount / 8 + 1
                left = 0
            }
        }
        while left > 0 {
            guard offset < buffer.count else { throw FormatError(.truncated, "\(what) runs past the end", offset: offset) }
            if buffer[offset] < 0x80 { left -= 1 }
            offset += 1
        }
    }

    @inline(__always)
    mutating func readBytes(_ count: Int, _ what: StaticString = "bytes") throws(FormatError) -> UnsafeRawBufferPointer {
        try need(count, what)
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    /// The bytes of a `str` (a varint length, then the bytes), not yet checked to be UTF-8,
    /// and the offset it starts at (for errors).
    mutating func readStringBytes(_ what: StaticString = "string") throws(FormatError) -> (bytes: UnsafeRawBufferPointer, start: Int) {
        let start = offset
        let length = try readVarint(what)
        guard length <= UInt64(remaining) else {
            throw FormatError(.truncated, "\(what) length \(length) runs past the end", offset: start)
        }
        return (try readBytes(Int(length), what), start)
    }

    mutating func readString(_ what: StaticString = "string") throws(FormatError) -> String {
        let (raw, start) = try readStringBytes(what)
        guard let string = makeString(raw) else {
            throw FormatError(.malformed, "\(what) is not valid UTF-8", offset: start)
        }
        return string
    }

    // Runs: a record check (`verify`) steps over runs of strs and integers without making
    // anything of them. These take a run's common case in one pass, with no branch on each
    // value's length class, and leave the exceptions to the caller's reads one at a time (which
    // throw the precise error, or accept what is valid but not common): each returns false,
    // the offset where it was, for the caller to read the run again that way.

    /// Moves past `count` strs whose bytes are all ASCII (so valid UTF-8) and whose lengths
    /// take one or two bytes. The lengths are walked first; then the run's bytes are checked as
    /// one span (a one-byte length is below 0x80 too), split only at two-byte lengths. False
    /// when a length runs past the end, is longer or not in shortest form, or a byte is not
    /// ASCII.
    @inline(__always)
    mutating func skipASCIIStrings(_ count: Int) -> Bool {
        guard let base = buffer.baseAddress else { return count == 0 }
        let end = buffer.count
        var o = offset
        var spanStart = o
        var ascii = true
        for _ in 0..<count {
            guard o < end else { return false }
            let first = base.load(fromByteOffset: o, as: UInt8.self)
            var length = Int(first)
            if first < 0x80 {
                o += 1
            } else {
                // Two bytes: the second without its high bit and not zero (shortest form).
                guard end - o >= 2 else { return false }
                let second = base.load(fromByteOffset: o + 1, as: UInt8.self)
                guard second < 0x80, second != 0 else { return false }
                length = Int(first & 0x7F) | Int(second) << 7
                ascii = ascii && isASCII(UnsafeRawBufferPointer(rebasing: buffer[spanStart..<o]))
                o += 2
                spanStart = o
            }
            guard length <= end - o else { return false }
            o += length
        }
        guard ascii, isASCII(UnsafeRawBufferPointer(rebasing: buffer[spanStart..<o])) else { return false }
        offset = o
        return true
    }

    /// Moves past `count` varints of at most 8 bytes each, in shortest form (the last byte of a
    /// longer one is not zero), without decoding them: any such value is below 2⁵⁶. False when
    /// fewer than 8 bytes are left at one, or one is longer or not in shortest form.
    @inline(__always)
    mutating func skipShortVarints(_ count: Int) -> Bool {
        var o = offset
        for _ in 0..<count {
            guard buffer.count - o >= 8 else { return false }
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: o, as: UInt64.self))
            let ends = ~word & 0x8080_8080_8080_8080
            guard ends != 0 else { return false }
            let length = (ends.trailingZeroBitCount + 1) / 8
            guard length == 1 || word >> UInt64(8 * length - 8) & 0x7F != 0 else { return false }
            o += length
        }
        offset = o
        return true
    }
}
