import Testing

@testable import AuditLog

/// The reader's runs (what `verify` steps over a record's strings and integers with) agree with
/// reading the same values one at a time: they take a run exactly when every value in it is of
/// their common kind and valid, end where the one-at-a-time reads end, and otherwise leave the
/// reader where it was. Runs are built at random with every kind of damage a record can carry.
@Suite struct ByteReaderRunsTests {
    /// A run of `count` strs: ASCII of lengths 0–200 (one- and two-byte lengths), some with a
    /// valid multi-byte UTF-8 character or an invalid byte, some lengths overlong or running past
    /// the end; random bytes before them (where the run starts: returned) and cut off at the end.
    static func stringRun(_ rng: inout SplitMix64, count: Int) -> (bytes: [UInt8], start: Int) {
        var bytes: [UInt8] = (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let start = bytes.count
        for _ in 0..<count {
            let length = Int(rng.next() % 8 == 0 ? 100 + rng.next() % 100 : rng.next() % 40)
            var text = (0..<length).map { _ in UInt8(0x20 + rng.next() % 0x5F) }
            switch rng.next() % 30 {
            case 0 where length >= 2: text.replaceSubrange(0..<2, with: [0xC3, 0xA9])  // é: valid, not ASCII
            case 1 where length >= 1: text[Int(rng.next() % UInt64(length))] = 0xFF  // not UTF-8
            case 2 where length >= 1: text[length - 1] = 0xC3  // a cut sequence
            default: break
            }
            switch rng.next() % 60 {
            case 0: bytes += [UInt8(length & 0x7F) | 0x80, UInt8(length >> 7)]  // overlong below 128
            case 1: bytes.appendVarint(UInt64(length) + 1)  // one byte past its text
            default: bytes.appendVarint(UInt64(length))
            }
            bytes += text
        }
        if rng.next() % 30 == 0 { bytes.removeLast(min(Int(rng.next() % 5), bytes.count - start)) }  // cut short
        return (bytes, start)
    }

    /// A run of `count` varints of every width, some overlong (a last byte of zero), some of ten
    /// bytes (above 2⁶³ or not), some cut off by the end; random bytes after them or none.
    static func varintRun(_ rng: inout SplitMix64, count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<count {
            let value = rng.next() >> UInt64(rng.next() % 64)
            switch rng.next() % 30 {
            case 0: bytes += [0x81, 0x00]  // 1, overlong
            case 1: bytes += [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x00]  // overlong at nine bytes
            case 2: bytes += [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]  // 2⁶³
            default: bytes.appendVarint(value)
            }
        }
        if rng.next() % 20 == 0 { bytes.removeLast(min(Int(rng.next() % 3), bytes.count)) }
        bytes += (0..<Int(rng.next() % 3 == 0 ? 0 : rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return bytes
    }

    /// Where reading `count` strs one at a time ends, when each is ASCII with a length of at most
    /// two bytes (nil: not a run the fast path takes), and whether they are all valid.
    static func stringsOneByOne(_ r: inout ByteReader, _ count: Int) -> (end: Int?, valid: Bool) {
        var common = true
        for _ in 0..<count {
            let start = r.offset
            guard let (bytes, _) = try? r.readStringBytes() else { return (nil, false) }
            if r.offset - bytes.count - start > 2 || !isASCII(bytes) { common = false }
            guard isValidUTF8(bytes) else { return (nil, false) }
        }
        return (common ? r.offset : nil, true)
    }

    /// Where reading `count` varints one at a time ends, when each is at most eight bytes with
    /// eight bytes at hand (nil: not a run the fast path takes), and whether they are all valid.
    static func varintsOneByOne(_ r: inout ByteReader, _ count: Int) -> (end: Int?, valid: Bool) {
        var common = true
        for _ in 0..<count {
            let start = r.offset
            guard let value = try? r.readVarint(), value <= UInt64(Int64.max) else { return (nil, false) }
            if r.buffer.count - start < 8 || r.offset - start > 8 { common = false }
        }
        return (common ? r.offset : nil, true)
    }

    /// 20,000 random runs from `make` (bytes, where the run starts, how many values): `skip`
    /// takes a run exactly when `reference` finds it common and valid, ends where it ends, and
    /// otherwise leaves the reader where it was. Both outcomes occur, and valid runs the fast
    /// path leaves (UTF-8, long values) too.
    static func holdToReference(
        seed: UInt64, make: (inout SplitMix64) -> (bytes: [UInt8], start: Int, count: Int),
        reference: (inout ByteReader, Int) -> (end: Int?, valid: Bool), skip: (inout ByteReader, Int) -> Bool
    ) {
        var rng = SplitMix64(seed: seed)
        var taken = 0
        var left = 0
        for _ in 0..<20_000 {
            let (bytes, start, count) = make(&rng)
            let (expected, valid, ran, at) = bytes.withUnsafeBytes { raw in
                var one = ByteReader(raw, offset: start)
                let (end, valid) = reference(&one, count)
                var run = ByteReader(raw, offset: start)
                let ran = skip(&run, count)
                return (end, valid, ran, run.offset)
            }
            #expect(ran == (expected != nil), "bytes \(bytes) from \(start), \(count) values")
            #expect(at == (expected ?? start), "bytes \(bytes) from \(start), \(count) values")
            if ran { taken += 1 } else if valid { left += 1 }
        }
        #expect(taken > 5_000 && left > 500, "taken \(taken), left \(left)")
    }

    @Test func aStringRunIsTakenExactlyWhenEachStringIsASCIIAndWhole() {
        Self.holdToReference(
            seed: 2614,
            make: { rng in
                let count = Int(rng.next() % 6)
                let (bytes, start) = Self.stringRun(&rng, count: count)
                return (bytes, start, count)
            },
            reference: Self.stringsOneByOne, skip: { $0.skipASCIIStrings($1) })
    }

    @Test func aVarintRunIsTakenExactlyWhenEachIsShortAndInShortestForm() {
        Self.holdToReference(
            seed: 5656,
            make: { rng in
                let count = Int(rng.next() % 7)
                return (Self.varintRun(&rng, count: count), 0, count)
            },
            reference: Self.varintsOneByOne, skip: { $0.skipShortVarints($1) })
    }
}
