/// Little-endian encoding helpers shared by every codec in `Format/`.
///
/// `ByteWriter` appends to a growable array; `ByteReader` reads from a borrowed buffer and
/// throws ``FormatError`` with the byte offset instead of reading past the end.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    // Fixed widths and varints go in with one append each (``ByteSink``): every `append`
    // checks the buffer's uniqueness and capacity, and these run several times a record.
    mutating func write(_ value: UInt32) { bytes.appendLittleEndian(value) }

    mutating func write(_ value: UInt64) { bytes.appendLittleEndian(value) }

    mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }

    mutating func write<C: Collection>(bytes other: C) where C.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// Unsigned LEB128.
    mutating func writeVarint(_ value: UInt64) { bytes.appendVarint(value) }

    /// A length-prefixed UTF-8 string: varint byte count, then the bytes.
    mutating func writeString(_ string: String) { bytes.appendString(string) }

    /// Makes room for `capacity` bytes in all.
    mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Overwrites four bytes at `offset` (used to patch lengths after the fact).
    mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { overwrite(at: offset, with: $0) }
    }

    /// Overwrites eight bytes at `offset`.
    mutating func patch(_ value: UInt64, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { overwrite(at: offset, with: $0) }
    }

    /// Overwrites the bytes from `offset` with `other`'s (all of them already written).
    mutating func overwrite<C: Collection>(at offset: Int, with other: C) where C.Element == UInt8 {
        bytes.replaceSubrange(offset..<(offset + other.count), with: other)
    }

    /// XXH3-64 of the bytes in `range`.
    func checksum(_ range: Range<Int>) -> UInt64 {
        bytes.withUnsafeBytes { Checksum.xxh3(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

/// A bounds-checked cursor over borrowed bytes.
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
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the closure's typed error (the standard one only rethrows
    /// `any Error`). Through the typed-throws `withUnsafeBufferPointer`, not a `Result`: a
    /// `Result`'s `get()` copies its value, and a decoded event is ~20 references to retain and
    /// release again (a tenth of a query's record decoding).
    @inline(__always)
    func withRawBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withUnsafeBufferPointer { (elements) throws(E) -> R in try body(UnsafeRawBufferPointer(elements)) }
    }
}

extension Array {
    /// `withUnsafeMutableBufferPointer` that keeps the closure's typed error, the buffer passed
    /// by value (the closure cannot replace it).
    @inline(__always)
    mutating func withMutableElements<R, E: Error>(_ body: (UnsafeMutableBufferPointer<Element>) throws(E) -> R) throws(E) -> R {
        try withUnsafeMutableBufferPointer { (buffer) throws(E) -> R in try body(buffer) }
    }
}

/// Whether the bytes are valid UTF-8 (ASCII checked a word at a time, without making a String).
@inline(__always)
func isValidUTF8(_ raw: UnsafeRawBufferPointer) -> Bool {
    isASCII(raw) || String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) != nil
}

/// A String from UTF-8 bytes, or nil when they are not valid UTF-8. ASCII (the common case
/// for audit fields) takes a fast path that skips the generic validator.
@inline(__always)
func makeString(_ raw: UnsafeRawBufferPointer) -> String? {
    let bytes = raw.bindMemory(to: UInt8.self)
    if isASCII(raw) { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
}

/// Whether every byte is below 0x80: words of 8 bytes, then the last 8 (or 4, 2, 1) bytes
/// loaded overlapping the ones already checked, so a short string costs no byte loop.
@inline(__always)
func isASCII(_ raw: UnsafeRawBufferPointer) -> Bool {
    guard let base = raw.baseAddress else { return true }
    let n = raw.count
    if n >= 8 {
        var bits: UInt64 = base.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        var i = 0
        while i + 8 <= n {
            bits |= base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }
    if n >= 4 {
        return (base.loadUnaligned(as: UInt32.self) | base.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) & 0x8080_8080 == 0
    }
    if n >= 2 {
        return (base.loadUnaligned(as: UInt16.self) | base.loadUnaligned(fromByteOffset: n - 2, as: UInt16.self)) & 0x8080 == 0
    }
    return n == 0 || base.load(as: UInt8.self) < 0x80
}

/// Whether `raw` can go into a JSON string as it is: no byte below 0x20, no `"` (0x22), no `\`
/// (0x5C) and none at or above 0x80 (so it is ASCII, valid UTF-8).
@inline(__always)
func isPlainJSONString(_ raw: UnsafeRawBufferPointer) -> Bool {
    everyWord(of: raw) { w in (hasByte(below: 0x20, w) | hasByte(0x22, w) | hasByte(0x5C, w) | w) & highBits == 0 }
}

/// Whether `raw` can be a CSV cell as it is: no comma, quote, LF or CR, and no byte at or above
/// 0x80 (so it is ASCII, valid UTF-8).
@inline(__always)
func isPlainCSVCell(_ raw: UnsafeRawBufferPointer) -> Bool {
    everyWord(of: raw) { w in (hasByte(0x2C, w) | hasByte(0x22, w) | hasByte(0x0A, w) | hasByte(0x0D, w) | w) & highBits == 0 }
}

/// Where the content of a JSON string that starts at `from` stops: the offset of the first
/// quote, backslash or byte below 0x20 at or after it, eight bytes a step; nil when there is
/// none. Bytes at or above 0x80 (UTF-8) are content.
@inline(__always)
func jsonStringStop(in raw: UnsafeRawBufferPointer, from: Int) -> Int? {
    guard let base = raw.baseAddress else { return nil }
    let n = raw.count
    var i = max(from, 0)
    while i + 8 <= n {
        let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        let stops = (hasByte(below: 0x20, w) | hasByte(0x22, w) | hasByte(0x5C, w)) & highBits
        if stops != 0 { return i + stops.trailingZeroBitCount / 8 }
        i += 8
    }
    while i < n {
        let c = base.load(fromByteOffset: i, as: UInt8.self)
        if c == 0x22 || c == 0x5C || c < 0x20 { return i }
        i += 1
    }
    return nil
}

// Byte tests eight bytes a step (SWAR): a word has a byte below `n` (n ≤ 0x80) when
// `(w − n·0x01…01) & ~w & 0x80…80` is not zero, and a byte equal to `c` when the word XOR
// `c·0x01…01` has a byte below 1. The tests are exact for the word as a whole (a borrow can
// only follow a byte that already matched).
private let highBits: UInt64 = 0x8080_8080_8080_8080
private let byteOnes: UInt64 = 0x0101_0101_0101_0101

/// The high bit of some byte is set when a byte of `w` is below `n` (bytes ≥ 0x80 aside: the
/// callers reject those anyway).
@inline(__always)
private func hasByte(below n: UInt8, _ w: UInt64) -> UInt64 { (w &- byteOnes &* UInt64(n)) & ~w }

/// The high bit of some byte is set when a byte of `w` is `c` (or ≥ 0x80, as above).
@inline(__always)
private func hasByte(_ c: UInt8, _ w: UInt64) -> UInt64 { hasByte(below: 1, w ^ (byteOnes &* UInt64(c))) }

/// Whether `plain` holds for every word of `raw`: the last word overlaps the ones before it,
/// and text shorter than a word is padded with `A`s.
@inline(__always)
private func everyWord(of raw: UnsafeRawBufferPointer, _ plain: (UInt64) -> Bool) -> Bool {
    guard let base = raw.baseAddress else { return true }
    let n = raw.count
    guard n >= 8 else {
        var w = byteOnes &* 0x41  // "AAAAAAAA"
        withUnsafeMutableBytes(of: &w) { $0.baseAddress?.copyMemory(from: base, byteCount: n) }
        return plain(w)
    }
    var i = 0
    while i + 8 <= n {
        guard plain(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) else { return false }
        i += 8
    }
    return i == n || plain(base.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
}
