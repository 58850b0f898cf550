import Testing

@testable import AuditLog

/// What an appending task prepares before the writer sees a batch: ids repeated within it are
/// found through their hashes (collisions included), ids are checked for control characters
/// byte by byte, and each record decodes back to its event, with the id it was given.
@Suite struct PreparedBatchTests {
    @Test func repeatedIdsAreFoundEvenWhenEveryHashCollides() {
        var seen = SeenIDs(capacity: 4)
        func insert(_ id: String, hash: UInt64 = 1) -> Bool { seen.insert(id, hash: hash) }
        // One hash for all: the first id is confirmed by comparison, the rest by the set.
        let first = ["a", "b", "c"].map { insert($0) }
        let again = ["a", "b", "c"].map { insert($0) }
        #expect(first == [true, true, true])
        #expect(again == [false, false, false])
        let fresh = insert("d")
        let otherHash = insert("a", hash: 2)
        #expect(fresh)
        #expect(otherHash, "another hash is another id")
    }

    @Test func aBatchRepeatingAnIdIsRefusedAtTheRepeat() {
        func event(_ id: String) -> AuditEvent { AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: 1_000), id: id) }
        do throws(AuditLogError) {
            _ = try PreparedBatch([event("x"), event("y"), event("z"), event("y")], maxEvents: 10)
            Issue.record("a repeated id was accepted")
        } catch {
            #expect(error.code == .duplicateID)
            #expect(error.location.index == 3 && error.location.field == "id")
        }
    }

    @Test func idsWithControlCharactersAreRefusedAndOthersKept() throws {
        for bad in ["a\u{0}", "\u{1F}b", "c\u{7F}", "\t"] {
            #expect(throws: AuditLogError.self, "\(bad.unicodeScalars.map(\.value))") {
                try AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: 0), id: bad).validate()
            }
        }
        // C1 controls and other multi-byte scalars hold no byte below 0x20 or 0x7F.
        for good in ["évt\u{85}", "日本\u{9F}", "~ok"] {
            try AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: 0), id: good).validate()
        }
    }

    @Test func eachRecordDecodesToItsEventWithItsId() throws {
        var generator = EventGenerator(seed: 11, count: 300, days: 2, end: Timestamp(nanosSinceEpoch: 1_774_000_000_000_000_000))
        var events: [AuditEvent] = []
        while let event = generator.next() { events.append(event) }
        events[7].id = "client-7"  // one client id among assigned ones
        let batch = try PreparedBatch(events, maxEvents: events.count)
        #expect(batch.clientIDIndices == events.indices.filter { events[$0].id != nil })
        var start = 0
        for (i, end) in batch.recordEnds.enumerated() {
            var expected = events[i]
            expected.id = batch.ids[i]
            let decoded = try batch.records.withUnsafeBytes { raw throws(FormatError) in
                try AuditEvent.decodeRecord(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
            }
            #expect(decoded == expected, "event \(i)")
            #expect(batch.idHashes[i] == IDIndex.fullHash(batch.ids[i]))
            #expect(batch.timestampsNanos[i] == events[i].timestamp.nanosSinceEpoch)
            start = end
        }
        #expect(start == batch.records.count)
    }
}
