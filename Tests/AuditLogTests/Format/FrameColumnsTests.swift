import Testing

@testable import AuditLog

/// Frame codec 2 gives back exactly the payload it was given, for every kind of record the
/// writer stores, and no stored bytes — however damaged — make it trap or write past its room.
@Suite struct FrameColumnsTests {
    /// A raw frame payload of `records`: each one's length as a varint, then its bytes.
    static func payload(_ records: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter()
        for record in records {
            w.writeVarint(UInt64(record.count))
            w.write(bytes: record)
        }
        return w.bytes
    }

    static func encode(_ payload: [UInt8], count: Int) -> [UInt8]? {
        var encoder = FrameColumnEncoder()
        var stored: [UInt8] = []
        let size = payload.withUnsafeBytes { encoder.encode($0, recordCount: count, into: &stored) }
        guard let size else { return nil }
        #expect(size == stored.count)
        return stored
    }

    static func decode(_ stored: [UInt8], rawLength: Int, count: Int) throws(FormatError) -> [UInt8] {
        var raw: [UInt8] = []
        try stored.withRawBytes { (s) throws(FormatError) in try FrameColumns.decode(s, rawLength: rawLength, recordCount: count, into: &raw) }
        return Array(raw[0..<rawLength])
    }

    static func roundTrip(_ events: [AuditEvent], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let records = events.map { $0.recordBytes() }
        let raw = payload(records)
        let stored = try #require(encode(raw, count: records.count), sourceLocation: sourceLocation)
        #expect(try decode(stored, rawLength: raw.count, count: records.count) == raw, sourceLocation: sourceLocation)
    }

    static func generated(_ count: Int, seed: UInt64 = 5) -> [AuditEvent] {
        var generator = EventGenerator(seed: seed, count: count, days: 1, end: Timestamp(nanosSinceEpoch: 1_774_000_000_000_000_000))
        var events: [AuditEvent] = []
        while let event = generator.next() { events.append(event) }
        return events
    }

    @Test(arguments: [1, 2, 31, 32, 33, 160, 1_000])
    func generatedTrafficRoundTrips(count: Int) throws {
        try Self.roundTrip(Self.generated(count, seed: UInt64(count)))
    }

    @Test func everyKindOfFieldRoundTrips() throws {
        let (full, textID, bare) = Self.unusualEvents()
        try Self.roundTrip([full, textID, bare, full, textID])
        // Mixed with generated traffic, so that the string columns take each mode.
        try Self.roundTrip(Self.generated(200) + [full, textID, bare])
    }

    /// An event with every field (the extremes of each), one with a text id, one with only an
    /// id, a type and a request id of hex digits alone.
    static func unusualEvents() -> (full: AuditEvent, textID: AuditEvent, bare: AuditEvent) {
        let t = Timestamp(nanosSinceEpoch: 1_774_000_000_123_456_789)
        var full = AuditEvent(eventType: "decision", timestamp: t, id: "evt_01KM7ZN4V0D4BQ5C3PX7RS9ZTA")
        full.verdict = .redact
        full.reasonCode = "pii"
        full.user = "ünïcødé@example.com"
        full.team = ""
        full.model = "gpt-4.1"
        full.provider = "openai"
        full.configVersion = "0.2.1"
        full.apiKey = "key_abc"
        full.source = "ide"
        full.tokensIn = 0
        full.tokensOut = .max
        full.tokensCached = 127
        full.tokensReasoning = 128
        full.cost = Cost(nanodollars: 1_000_000_000_000_000)
        full.latencyMicros = 1
        full.cacheHit = true
        full.requestID = "req_0123456789abcdef"
        full.sessionID = "ses_abc"  // odd digit count
        full.gateway = "gw-eu-1"
        full.ip = "2001:db8::1"
        full.userAgent = String(repeating: "x", count: 300)  // a length of two varint bytes
        full.policies = [PolicyDecision(name: "pii", kind: "regex", verdict: "redact", extra: [JSONMember("n", .number("2"))])]
        full.redactions = [Redaction(kind: "email", replacement: "[email]")]
        full.resource = "models/gpt-4.1"
        full.details = .object([JSONMember("a", .array([.null, .bool(true), .string("s")]))])
        full.extra = [JSONMember("custom", .number("1.50"))]
        var textID = AuditEvent(eventType: "model.enabled", timestamp: Timestamp(nanosSinceEpoch: 0), id: "admin-change-7")
        textID.requestID = "REQ-UPPER"  // not lowercase hex: plain or prefix only
        var bare = AuditEvent(eventType: "x", timestamp: Timestamp(nanosSinceEpoch: 5), id: "evt_7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        bare.requestID = "deadbeef"  // all digits, no prefix
        return (full, textID, bare)
    }

    /// The entries a sparse decode of `ordinals` writes.
    static func decode(_ stored: [UInt8], rawLength: Int, count: Int, only ordinals: [Int]) throws(FormatError) -> [UInt8] {
        var raw: [UInt8] = []
        let written = try stored.withRawBytes { (s) throws(FormatError) in
            try FrameColumns.decode(s, rawLength: rawLength, recordCount: count, only: ordinals, into: &raw)
        }
        return Array(raw[0..<written])
    }

    /// A sparse decode writes exactly the entries of the records asked for, whichever they are
    /// (the first, the last, every single one, random sets, all), from a frame whose string
    /// columns take every mode and whose records have every kind of field.
    @Test func aSparseDecodeRebuildsExactlyTheRecordsAskedFor() throws {
        let (full, textID, bare) = Self.unusualEvents()
        let records = (Self.generated(150, seed: 9) + [full, textID, bare]).map { $0.recordBytes() }
        let raw = Self.payload(records)
        let stored = try #require(Self.encode(raw, count: records.count))
        var sets: [[Int]] = records.indices.map { [$0] } + [[0, records.count - 1], Array(records.indices), [], [5, 6, 7, 100]]
        var rng = SplitMix64(seed: 21)
        for _ in 0..<40 {
            sets.append(records.indices.filter { _ in Int.random(in: 0..<10, using: &rng) == 0 })
        }
        for ordinals in sets {
            let decoded = try Self.decode(stored, rawLength: raw.count, count: records.count, only: ordinals)
            #expect(decoded == Self.payload(ordinals.map { records[$0] }), "ordinals \(ordinals)")
        }
        // Ordinals out of order, repeated or past the frame are refused, not guessed at.
        for ordinals in [[3, 2], [4, 4], [records.count], [-1]] {
            #expect(throws: FormatError.self) { try Self.decode(stored, rawLength: raw.count, count: records.count, only: ordinals) }
        }
    }

    /// A decode of only the fields an index reads gives each record as its event is without
    /// the others (the columns of those are not read), and the same index facts.
    @Test func aDecodeOfSomeFieldsKeepsThoseFields() throws {
        let (full, textID, bare) = Self.unusualEvents()
        let events = Self.generated(150, seed: 11) + [full, textID, bare]
        let records = events.map { $0.recordBytes() }
        let raw = Self.payload(records)
        let stored = try #require(Self.encode(raw, count: records.count))
        var reduced: [UInt8] = []
        let written = try stored.withRawBytes { (s) throws(FormatError) in
            try FrameColumns.decode(s, rawLength: raw.count, recordCount: records.count, fields: RecordFacts.fieldsRead, into: &reduced)
        }
        try reduced.withUnsafeBytes { r in
            var it = FramePayloadIterator(UnsafeRawBufferPointer(rebasing: r[0..<written]))
            for (event, record) in zip(events, records) {
                let bytes = try #require(try it.next())
                var expected = event
                expected.requestID = nil
                expected.sessionID = nil
                expected.gateway = nil
                expected.ip = nil
                expected.userAgent = nil
                expected.policies = nil
                expected.redactions = nil
                expected.resource = nil
                expected.details = nil
                expected.extra = []
                #expect(try AuditEvent.decodeRecord(bytes) == expected)
                let facts = try RecordFacts(record: bytes)
                let original = try record.withUnsafeBytes { o in try RecordFacts(record: o) }
                #expect(facts.timestampNanos == original.timestampNanos && facts.idHash == original.idHash && facts.verdict == original.verdict)
                #expect(facts.tokensIn == original.tokensIn && facts.costNanos == original.costNanos && facts.cacheHit == original.cacheHit)
            }
            #expect(try it.next() == nil)
        }
    }

    /// The bit-sliced presence counts agree with counting bit by bit, for runs of every length
    /// up to past a slice's carry into the next (255, 256, 257 records and more).
    @Test func presenceCountsAgreeWithCountingBitByBit() {
        var rng = SplitMix64(seed: 27)
        for n in [0, 1, 2, 3, 7, 100, 255, 256, 257, 1_000, 70_000] {
            var counts = FrameColumns.PresenceCounts()
            var fields = [Int](repeating: 0, count: 21)
            var compact = 0
            var tails = 0
            for _ in 0..<n {
                // Dense and sparse presences alike; bits 27–31 are never set (the decoder refuses them).
                let presence = UInt32(truncatingIfNeeded: rng.next() & (rng.next() % 2 == 0 ? rng.next() : .max)) & FrameColumns.knownMask
                counts.add(presence)
                for bit in 0..<21 where presence & (1 << UInt32(bit)) != 0 { fields[bit] += 1 }
                if presence & FrameColumns.compactIDMask != 0 { compact += 1 }
                if presence & FrameColumns.tailMask != 0 { tails += 1 }
            }
            #expect((0..<21).map { counts.records(withBit: $0) } == fields, "\(n) records")
            #expect(counts.compactIDs == compact && counts.textIDs == n - compact && counts.tails == tails, "\(n) records")
        }
    }

    /// Skipping codes lands where reading them does, for every width and count, whatever the
    /// byte boundaries cut; skipping past the last code runs out.
    @Test func skippingCodesLandsWhereReadingThemDoes() throws {
        var rng = SplitMix64(seed: 32)
        for width in 0...32 {
            let count = 1 + Int(rng.next() % 60)
            let codes = (0..<count).map { _ in width == 0 ? 0 : UInt32(truncatingIfNeeded: rng.next() >> UInt64(64 - width)) }
            var packed: [UInt8] = []
            PackedCodes.append(codes, bits: width, to: &packed)
            for skip in 0..<count {
                try packed.withRawBytes { (raw) throws(FormatError) in
                    var reader = FrameColumns.BitReader(raw, width: width, limit: .max)
                    try reader.skip(skip)
                    for i in skip..<count { #expect(try reader.next() == codes[i], "width \(width), code \(i) after skipping \(skip)") }
                    #expect(reader.isExhausted)
                }
            }
            if width > 0 {
                try packed.withRawBytes { (raw) throws(FormatError) in
                    var reader = FrameColumns.BitReader(raw, width: width, limit: .max)
                    #expect(throws: FormatError.self) { try reader.skip(count + 8) }
                }
            }
        }
    }

    @Test func aRecordThatDoesNotSplitIsLeftToLZ4() {
        // Presence bit 27 is not a field: the codec refuses rather than guess.
        var w = ByteWriter()
        w.write(Int64(1))
        w.write(UInt32(1 << 27))
        w.writeString("id")
        w.writeString("t")
        #expect(Self.encode(Self.payload([w.bytes]), count: 1) == nil)
        // A record with bytes after its last field.
        let record = AuditEvent(eventType: "t", timestamp: Timestamp(nanosSinceEpoch: 1), id: "id").recordBytes() + [0]
        #expect(Self.encode(Self.payload([record]), count: 1) == nil)
        // Fewer records than the count says.
        #expect(Self.encode(Self.payload([record.dropLast()].map(Array.init)), count: 2) == nil)
    }

    @Test func aWrongCountOrLengthIsDamage() throws {
        let records = Self.generated(50).map { $0.recordBytes() }
        let raw = Self.payload(records)
        let stored = try #require(Self.encode(raw, count: 50))
        #expect(throws: FormatError.self) { try Self.decode(stored, rawLength: raw.count, count: 49) }
        #expect(throws: FormatError.self) { try Self.decode(stored, rawLength: raw.count, count: 51) }
        #expect(throws: FormatError.self) { try Self.decode(stored, rawLength: raw.count - 1, count: 50) }
        #expect(throws: FormatError.self) { try Self.decode(stored, rawLength: raw.count + 1, count: 50) }
        #expect(throws: FormatError.self) { try Self.decode(Array(stored.dropLast()), rawLength: raw.count, count: 50) }
    }

    /// Every byte of a body flipped in turn (and the body recompressed, so the change reaches the
    /// decoder): an error or the exact raw length, never a trap.
    @Test func aDamagedBodyNeverTraps() throws {
        let records = Self.generated(40).map { $0.recordBytes() }
        let raw = Self.payload(records)
        let stored = try #require(Self.encode(raw, count: 40))
        var body: [UInt8] = []
        try stored.withRawBytes { (s) throws(FormatError) in
            let length = Int(s.loadUnaligned(as: UInt32.self))
            try Compression.decompress(UnsafeRawBufferPointer(rebasing: s[4...]), rawLength: length, into: &body)
        }
        var rejected = 0
        for i in body.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = body
                damaged[i] ^= flip
                var again: [UInt8] = []
                guard let size = damaged.withUnsafeBytes({ Compression.compress($0, into: &again) }) else { continue }
                var restored: [UInt8] = []
                restored.appendLittleEndian(UInt32(damaged.count))
                restored += again[0..<size]
                do {
                    let decoded = try Self.decode(restored, rawLength: raw.count, count: 40)
                    #expect(decoded.count == raw.count)
                } catch {
                    rejected += 1
                }
                // A sparse decode of the same body, and one of some fields: an error or some
                // entries, never a trap.
                _ = try? Self.decode(restored, rawLength: raw.count, count: 40, only: [0, 17, 39])
                var some: [UInt8] = []
                _ = try? restored.withRawBytes { (s) throws(FormatError) in
                    try FrameColumns.decode(s, rawLength: raw.count, recordCount: 40, fields: RecordFacts.fieldsRead, into: &some)
                }
            }
        }
        #expect(rejected > 0)  // many flips only change a value: the frame checksum, not the codec, catches those
    }
}
