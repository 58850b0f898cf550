import Testing

@testable import AuditLog

/// The writer's id map: two ids whose 32-bit hashes collide are told apart by the tag the
/// writer kept, without reading a record; a real duplicate is still read and found; an entry
/// without a tag (a seq past 2⁴⁰, as entries from index files have none) is always read.
@Suite struct IDIndexTests {
    /// Two different ids with the same low 32 bits of XXH3-64 (a birthday search).
    static func collidingPair() -> (String, String)? {
        var seen: [UInt32: String] = [:]
        for n in 0..<2_000_000 {
            let id = "id-\(n)"
            let h = IDIndex.hash(id)
            if let other = seen[h] { return (other, id) }
            seen[h] = id
        }
        return nil
    }

    @Test func collidingIdsAreToldApartWithoutReadingARecord() throws {
        let (a, b) = try #require(Self.collidingPair())
        #expect(IDIndex.hash(a) == IDIndex.hash(b) && a != b)
        var index = IDIndex()
        index.insert(a, seq: 7)
        var reads: [UInt64] = []
        let stored: [UInt64: String] = [7: a, 1 << 41: b]
        func idAt(_ seq: UInt64) -> String? {
            reads.append(seq)
            return stored[seq]
        }
        #expect(try index.seq(fullHash: IDIndex.fullHash(b)) { idAt($0) == b } == nil)
        #expect(reads.isEmpty)
        #expect(try index.seq(fullHash: IDIndex.fullHash(a)) { idAt($0) == a } == 7)
        #expect(reads == [7])
        // A seq too large for a tag: kept untagged, found by reading.
        reads = []
        index.insert(b, seq: 1 << 41)
        #expect(try index.seq(fullHash: IDIndex.fullHash(b)) { idAt($0) == b } == 1 << 41)
        #expect(reads == [1 << 41])
        #expect(index.count == 2)
    }

    /// The table under the index: several entries per key, across growth, each found whole.
    @Test func slotsHoldManyEntriesPerKeyAcrossGrowth() {
        var slots = HashSlots()
        var expected: [UInt32: [UInt64]] = [:]
        var rng = SplitMix64(seed: 9)
        for i in 1...50_000 {
            // Few distinct keys in part, so runs of one key are long and wrap.
            let key = i % 3 == 0 ? UInt32(i % 7) : UInt32(truncatingIfNeeded: rng.next())
            // Every other value only in the high word: a slot is empty only when both are 0.
            let value = i % 2 == 0 ? UInt64(i) << 33 | 1 << 63 : UInt64(i)
            slots.insert(key, value)
            expected[key, default: []].append(value)
        }
        #expect(slots.count == 50_000)
        for (key, values) in expected {
            var cursor = slots.firstSlot(key)
            var found: [UInt64] = []
            while let v = slots.next(&cursor) { found.append(v) }
            #expect(found.sorted() == values.sorted(), "key \(key)")
        }
        var cursor = slots.firstSlot(0xDEAD_BEEF)
        #expect(expected[0xDEAD_BEEF] != nil || slots.next(&cursor) == nil)
        var empty = HashSlots()
        var none = empty.firstSlot(1)
        #expect(empty.next(&none) == nil)
        empty.reserve(10)
        #expect(empty.next(&none) == nil && empty.count == 0)
    }

    /// Prefetching a batch's slots (the writer does before each batch) reads nothing it should
    /// not: an empty table, and keys whose home is the table's last slot, change no answer.
    @Test func prefetchingChangesNoLookup() throws {
        let empty = IDIndex()
        empty.prefetch([0, UInt64.max, 12345])
        var index = IDIndex()
        let ids = (0..<1_000).map { "evt-\($0)" }
        for (i, id) in ids.enumerated() {
            index.prefetch([IDIndex.fullHash(id), UInt64.max])
            index.insert(id, seq: UInt64(i + 1))
        }
        index.prefetch(ids.map(IDIndex.fullHash) + [UInt64.max, 0])
        for (i, id) in ids.enumerated() {
            #expect(try index.seq(fullHash: IDIndex.fullHash(id)) { ids[Int($0) - 1] == id } == UInt64(i + 1))
        }
    }
}
