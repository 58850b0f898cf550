import Testing

@testable import AuditLog

/// The reader's fast paths (one-byte varints, ASCII checked by overlapping words) agree with
/// the rules they shortcut: every varint width, the non-canonical and truncated forms, and a
/// high byte at every position of every short length.
@Suite struct ByteReaderTests {
    static func read<R>(_ bytes: [UInt8], _ body: (inout ByteReader) throws(FormatError) -> R) throws(FormatError) -> R {
        try bytes.withRawBytes { raw throws(FormatError) in
            var reader = ByteReader(raw)
            return try body(&reader)
        }
    }

    @Test func varintsRoundTripAtEveryWidth() throws {
        var values: [UInt64] = [0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, UInt64.max]
        for shift in stride(from: 7, through: 63, by: 7) { values += [(1 << UInt64(shift)) - 1, 1 << UInt64(shift)] }
        // One trailing byte: the byte-at-a-time path; eight: the one-word path (up to 8 bytes).
        for value in values {
            for padding in [1, 8] {
                let read = try Self.readBack(value, padding: padding, filler: 0xAB)
                #expect(read.value == value)
                #expect(read.consumed == read.length, "varint of \(value) consumed exactly its bytes")
            }
        }
    }

    /// Random values of every width up to 56 bits, read from a word (eight bytes at hand) and
    /// byte by byte (at the end of the buffer): the 7-bit groups of every length on both paths.
    @Test func randomVarintsRoundTripOnBothPaths() throws {
        var rng = SplitMix64(seed: 56)
        var mismatches = 0
        for _ in 0..<20_000 {
            let value = rng.next() >> UInt64(8 + rng.next() % 56)
            for padding in [0, 8] {
                let read = try Self.readBack(value, padding: padding, filler: 0xFF)
                if read.value != value || read.consumed != read.length { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    /// `value` written as a varint with `padding` bytes of `filler` after it, then read back:
    /// the value read, the bytes the read took and the varint's own length.
    static func readBack(_ value: UInt64, padding: Int, filler: UInt8) throws(FormatError) -> (value: UInt64, consumed: Int, length: Int) {
        var w = ByteWriter()
        w.writeVarint(value)
        let length = w.count
        for _ in 0..<padding { w.write(filler) }
        let (decoded, consumed) = try read(w.bytes) { r throws(FormatError) in (try r.readVarint(), r.offset) }
        return (decoded, consumed, length)
    }

    /// Skipping varints lands where reading them one by one does: runs of every width mix,
    /// every count from none to all, whatever the eight-byte windows cut; too many runs out.
    @Test func skippingVarintsLandsWhereReadingThemDoes() throws {
        var rng = SplitMix64(seed: 8)
        for _ in 0..<300 {
            var w = ByteWriter()
            let count = Int(rng.next() % 40)
            for _ in 0..<count { w.writeVarint(rng.next() >> UInt64(rng.next() % 64)) }
            let bytes = w.bytes
            for k in 0...count {
                let expected = try Self.read(bytes) { (r) throws(FormatError) in
                    for _ in 0..<k { _ = try r.readVarintBytes() }
                    return r.offset
                }
                let skipped = try Self.read(bytes) { (r) throws(FormatError) in
                    try r.skipVarints(k)
                    return r.offset
                }
                #expect(skipped == expected, "\(k) of \(count) varints in \(bytes)")
            }
            #expect(throws: FormatError.self) { try Self.read(bytes) { (r) throws(FormatError) in try r.skipVarints(count + 1) } }
        }
    }

    @Test func varintRejectsOverlongTruncatedAndOverflowingForms() {
        let overlong: [[UInt8]] = [[0x80, 0x00], [0xFF, 0x80, 0x00], [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]]
        for bad: [UInt8] in overlong + [[], [0x80], [0xFF, 0xFF], Array(repeating: 0xFF, count: 9) + [0x02], Array(repeating: 0xFF, count: 10) + [0x01]] {
            #expect(throws: FormatError.self, "\(bad)") { try Self.read(bad) { r throws(FormatError) in try r.readVarint() } }
        }
        // Overlong and overflowing forms with bytes after them (the one-word path when 8 are at hand).
        for bad: [UInt8] in overlong + [Array(repeating: 0xFF, count: 9) + [0x02], Array(repeating: 0xFF, count: 10) + [0x01]] {
            #expect(throws: FormatError.self, "\(bad) + padding") { try Self.read(bad + [UInt8](repeating: 0x01, count: 8)) { r throws(FormatError) in try r.readVarint() } }
        }
    }

    @Test func asciiCheckSeesAHighByteAnywhere() {
        for n in 0...40 {
            let ascii = [UInt8](repeating: 0x61, count: n)
            ascii.withUnsafeBytes { raw in
                #expect(isASCII(raw), "\(n) ASCII bytes")
                #expect(isValidUTF8(raw))
                #expect(makeString(raw) == String(repeating: "a", count: n))
            }
            for position in 0..<n {
                var bytes = ascii
                bytes[position] = 0x80  // a lone continuation byte: not ASCII, not UTF-8
                bytes.withUnsafeBytes { raw in
                    #expect(!isASCII(raw), "high byte at \(position) of \(n)")
                    #expect(!isValidUTF8(raw), "lone continuation byte at \(position) of \(n)")
                    #expect(makeString(raw) == nil)
                }
            }
        }
    }

    @Test func multibyteUTF8IsValidAndMalformedIsNot() {
        let text = "zürich → 東京 🙂"
        Array(text.utf8).withUnsafeBytes { raw in
            #expect(!isASCII(raw))
            #expect(isValidUTF8(raw))
            #expect(makeString(raw) == text)
        }
        for bad: [UInt8] in [[0xC3], [0xE2, 0x86], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            bad.withUnsafeBytes { raw in #expect(!isValidUTF8(raw), "\(bad)") }
        }
    }
}
