/// Little-endian encoding helpers shared by every codec in `Format/`: `ByteWriter` appends to a
/// growable array (`ByteReader.swift` reads back), and the word-at-a-time byte checks below.
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
