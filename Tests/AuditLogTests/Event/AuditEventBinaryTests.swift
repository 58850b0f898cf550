import Testing

@testable import AuditLog

@Suite struct AuditEventBinaryTests {
    @Test func roundTripsEveryField() throws {
        let e = fullEvent()
        let bytes = e.recordBytes()
        #expect(try bytes.withUnsafeBytes { try AuditEvent.decodeRecord($0) } == e)
    }

    @Test func roundTripsAMinimalEvent() throws {
        let e = AuditEvent(eventType: "model.enabled", timestamp: Timestamp(nanosSinceEpoch: 1), id: "x")
        #expect(try e.recordBytes().withUnsafeBytes { try AuditEvent.decodeRecord($0) } == e)
    }

    /// Records written into the room reserved for one (``AuditEvent/recordRoom``) and records
    /// too large for it (written again through the array) alike: appended after bytes already
    /// there, which they leave as they were, the same bytes as into an empty writer, and
    /// decoding to the event.
    @Test func recordsAroundTheReservedRoomAppendExactly() throws {
        let full = fullEvent()
        for length in [0, 3_500, 3_700, 3_750, 3_800, 3_900, 4_096, 5_000, 20_000] {
            var e = full
            e.user = String(repeating: "u", count: length)
            var alone = ByteWriter()
            e.encodeRecord(id: e.id ?? "", to: &alone)
            var after = ByteWriter()
            after.write(bytes: [1, 2, 3])
            e.encodeRecord(id: e.id ?? "", to: &after)
            e.encodeRecord(id: e.id ?? "", to: &after)
            let n = alone.count
            #expect(after.count == 3 + 2 * n, "user of \(length) bytes")
            #expect(after.bytes.prefix(3) == [1, 2, 3])
            #expect(Array(after.bytes[3..<(3 + n)]) == alone.bytes && Array(after.bytes[(3 + n)...]) == alone.bytes, "user of \(length) bytes")
            #expect(try alone.bytes.withUnsafeBytes { try AuditEvent.decodeRecord($0) } == e, "user of \(length) bytes")
        }
    }

    /// Random events built from random subsets of fields round-trip exactly. Prints the seed.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func roundTripsRandomEvents(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let full = fullEvent()
        for i in 0..<500 {
            var e = AuditEvent(eventType: "t\(rng.below(5))", timestamp: Timestamp(nanosSinceEpoch: Int64(rng.next() >> 2)), id: "id\(i)")
            if rng.below(2) == 0 { e.verdict = Verdict.allCases[rng.below(4)] }
            if rng.below(2) == 0 { e.user = String(repeating: "ü", count: rng.below(300)) }
            if rng.below(2) == 0 { e.tokensIn = Int64(rng.next() >> UInt64(1 + rng.below(50))) }
            if rng.below(2) == 0 { e.cost = Cost(nanodollars: Int64(rng.next() >> UInt64(1 + rng.below(50)))) }
            if rng.below(2) == 0 { e.cacheHit = rng.below(2) == 0 }
            if rng.below(2) == 0 { e.policies = full.policies }
            if rng.below(2) == 0 { e.redactions = [] }
            if rng.below(2) == 0 { e.details = full.details }
            if rng.below(2) == 0 { e.extra = full.extra }
            if rng.below(2) == 0 { e.latencyMicros = Int64(rng.below(10_000_000)) }
            let decoded = try e.recordBytes().withUnsafeBytes { try AuditEvent.decodeRecord($0) }
            #expect(decoded == e, "seed \(seed), event \(i)")
            // The binary codec holds any value up to 2^63 - 1 (older logs may); JSON input
            // refuses what exceeds the per-event limits, naming the field.
            let overLimit = (e.tokensIn ?? 0) > EventLimits.maxTokens || (e.cost?.nanodollars ?? 0) > EventLimits.maxCostNanodollars
            if overLimit {
                #expect(throws: AuditLogError.self, "seed \(seed), event \(i)") { try AuditEvent(json: e.jsonText()) }
            } else {
                #expect(try AuditEvent(json: e.jsonText()) == e, "seed \(seed), event \(i)")
            }
        }
    }

    @Test func rejectsTruncatedAndTrailingBytes() {
        let record = fullEvent().recordBytes()
        for cut in [0, 5, 11, 12, record.count / 2, record.count - 1] {
            #expect(throws: FormatError.self, "cut at \(cut)") {
                try Array(record[0..<cut]).withUnsafeBytes { try AuditEvent.decodeRecord($0) }
            }
        }
        #expect(throws: FormatError.self) { try (record + [0]).withUnsafeBytes { try AuditEvent.decodeRecord($0) } }
    }

    @Test func rejectsUnknownPresenceBits() {
        var record = fullEvent().recordBytes()
        record[11] |= 0x80  // presence bit 31
        #expect(throws: FormatError.self) { try record.withUnsafeBytes { try AuditEvent.decodeRecord($0) } }
    }

    @Test func ulidIDsAreStoredAsSixteenBytesAndComeBackExactly() throws {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<1000 {
            let id = EventID.make(timestampNanos: Int64(rng.next() >> 4), using: &rng)
            let e = AuditEvent(eventType: "x", timestamp: Timestamp(nanosSinceEpoch: 5), id: id)
            let bytes = e.recordBytes()
            #expect(bytes.count == 8 + 4 + 16 + 2)
            #expect(try bytes.withUnsafeBytes { try AuditEvent.decodeRecord($0) }.id == id)
        }
        // The text of known values (the ULID spec's example, computed apart from this code;
        // the smallest and the largest).
        #expect(EventID.string(high: 0x0156_3E3A_B5D3_D676, low: 0x4C61_EFB9_9302_BD5B) == "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        #expect(EventID.string(high: 0, low: 0) == "evt_00000000000000000000000000")
        #expect(EventID.string(high: .max, low: .max) == "evt_7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        // Every byte as the last digit and as the first: only the 32 uppercase digits are
        // read, each as its place in the alphabet (the first at most `7`, 128 bits in all).
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            var last = Array("evt_0000000000000000000000000".utf8)
            last.append(byte)
            let value = last.withUnsafeBytes { EventID.ulidBytes(utf8: $0) }
            #expect(value.map { $0.high == 0 && $0.low < 32 ? Int($0.low) : -1 } == alphabet.firstIndex(of: byte), "\(byte)")
            var first = Array("evt_".utf8) + [byte]
            first += Array("0000000000000000000000000".utf8)
            let top = first.withUnsafeBytes { EventID.ulidBytes(utf8: $0) }
            let expected = alphabet.firstIndex(of: byte).flatMap { $0 < 8 ? UInt64($0) << 61 : nil }
            #expect(top.map { $0.low == 0 ? $0.high : .max } == expected, "\(byte)")
        }
        // Anything that is not exactly `evt_` + a canonical ULID stays a string.
        for id in ["evt_01j5k4b6t8s45q3etmv38g3dds", "evt_81KHSK4H68S45Q3ETMV38G3DDS", "evt_01KHSK4H68S45Q3ETMV38G3DDI", "evt_01KHSK4H68S45Q3ETMV38G3DD", "EVT_01KHSK4H68S45Q3ETMV38G3DDS"] {
            let e = AuditEvent(eventType: "x", timestamp: Timestamp(nanosSinceEpoch: 5), id: id)
            #expect(try e.recordBytes().withUnsafeBytes { try AuditEvent.decodeRecord($0) }.id == id)
            #expect(EventID.ulidBytes(id) == nil, "\(id)")
        }
    }
}

@Suite struct RecordJSONTests {
    func transcoded(_ e: AuditEvent, seq: SequenceNumber?) throws -> String {
        var out: [UInt8] = []
        try e.recordBytes().withUnsafeBytes { try RecordJSON.append($0, seq: seq, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The export fast path writes exactly what encoding the decoded event would.
    @Test(arguments: [UInt64(61), 62])
    func transcodingEqualsEncodingTheDecodedEvent(seed: UInt64) throws {
        var generator = EventGenerator(seed: seed, count: 3000, days: 1, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
        var events = [fullEvent(), fullEvent(id: "evt_01KHSK4H68S45Q3ETMV38G3DDS"), AuditEvent(eventType: "x\u{1}\"\\", timestamp: Timestamp(nanosSinceEpoch: 1), id: "é")]
        var details = AuditEvent(eventType: "model.enabled", timestamp: .now, id: "d")
        details.details = .object([JSONMember("a", .array([.number("-1.5e3"), .null, .object([])])), JSONMember("b\n", .string("\u{7}"))])
        details.extra = [JSONMember("z", .bool(false))]
        details.redactions = [Redaction(), Redaction(kind: "k", extra: [JSONMember("n", .number("2"))])]
        details.policies = [PolicyDecision()]
        events.append(details)
        while let e = generator.next() { events.append(e) }
        for (i, e) in events.enumerated() {
            for seq in [nil, SequenceNumber(UInt64(i + 1))] {
                var expected: [UInt8] = []
                e.appendJSON(to: &expected, seq: seq)
                #expect(try transcoded(e, seq: seq) == String(decoding: expected, as: UTF8.self), "seed \(seed) event \(i)")
            }
        }
    }
}
