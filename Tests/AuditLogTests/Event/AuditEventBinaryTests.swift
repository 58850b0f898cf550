import Testing
@testable import AuditLog

@Suite struct AuditEventBinaryTests {
    @Test func roundTripsEveryField() throws {
        let e = fullEvent()
        let leaf = e.leafBytes(seq: SequenceNumber(7))
        let record = try leaf.withUnsafeBytes { try AuditEvent.decodeLeaf($0) }
        #expect(record.seq == SequenceNumber(7))
        #expect(record.event == e)
    }

    @Test func roundTripsAMinimalEvent() throws {
        let e = AuditEvent(eventType: "model.enabled", timestamp: Timestamp(nanosSinceEpoch: 1), id: "x")
        let record = try e.leafBytes(seq: SequenceNumber(1)).withUnsafeBytes { try AuditEvent.decodeLeaf($0) }
        #expect(record.event == e)
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
            if rng.below(2) == 0 { e.tokensIn = Int64(rng.next() >> 1) }
            if rng.below(2) == 0 { e.cost = Cost(nanodollars: Int64(rng.next() >> 1)) }
            if rng.below(2) == 0 { e.cacheHit = rng.below(2) == 0 }
            if rng.below(2) == 0 { e.policies = full.policies }
            if rng.below(2) == 0 { e.redactions = [] }
            if rng.below(2) == 0 { e.details = full.details }
            if rng.below(2) == 0 { e.extra = full.extra }
            if rng.below(2) == 0 { e.latencyMicros = Int64(rng.below(10_000_000)) }
            let record = try e.leafBytes(seq: SequenceNumber(UInt64(i + 1))).withUnsafeBytes { try AuditEvent.decodeLeaf($0) }
            #expect(record.event == e, "seed \(seed), event \(i)")
            #expect(try AuditEvent(json: e.jsonText()) == e, "seed \(seed), event \(i)")
        }
    }

    @Test func rejectsTruncatedAndTrailingBytes() {
        let leaf = fullEvent().leafBytes(seq: SequenceNumber(1))
        for cut in [0, 5, 19, 20, leaf.count / 2, leaf.count - 1] {
            #expect(throws: FormatError.self, "cut at \(cut)") {
                try Array(leaf[0..<cut]).withUnsafeBytes { try AuditEvent.decodeLeaf($0) }
            }
        }
        #expect(throws: FormatError.self) { try (leaf + [0]).withUnsafeBytes { try AuditEvent.decodeLeaf($0) } }
    }

    @Test func rejectsUnknownPresenceBits() {
        var leaf = fullEvent().leafBytes(seq: SequenceNumber(1))
        leaf[19] |= 0x80  // bit 31
        #expect(throws: FormatError.self) { try leaf.withUnsafeBytes { try AuditEvent.decodeLeaf($0) } }
    }
}
