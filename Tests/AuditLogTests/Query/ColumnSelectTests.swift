import Testing

@testable import AuditLog

/// A dictionary column's selection (``SegmentPredicate/select(_:_:negated:_:into:)``) compares
/// eight codes at once for one code: every range — any start, any length, the tail past the
/// last group of eight — finds exactly what a record-by-record test finds. The codes it looks
/// for come from a search of the segment's dictionary (``SegmentPredicate/codes(of:passing:)``).
@Suite struct ColumnSelectTests {
    @Test(arguments: [false, true])
    func oneCodeSelectsWhatATestOfEachRecordDoes(negated: Bool) {
        var rng = SplitMix64(seed: 11)
        for round in 0..<300 {
            let count = Int(rng.next() % 70)
            // Few distinct codes (many matches) in some rounds, many (rare ones) in others.
            let distinct = UInt32(round % 3 == 0 ? 3 : 50)
            let column = (0..<count).map { _ in UInt32(rng.next() % UInt64(distinct)) }
            let code = UInt32(rng.next() % UInt64(distinct))
            let lower = count == 0 ? 0 : Int(rng.next() % UInt64(count + 1))
            let upper = lower + Int(rng.next() % UInt64(count - lower + 1))
            var out = [-1]  // appended to, never replaced
            SegmentPredicate.select(column, [code], negated: negated, lower..<upper, into: &out)
            let expected = [-1] + (lower..<upper).filter { (column[$0] == code) != negated }
            #expect(out == expected, "round \(round): \(lower)..<\(upper) of \(count)")
        }
    }

    /// A dictionary's search finds the codes a test of every value finds — a guard for any
    /// shortcut the search takes (one by UTF-8 length missed the Kelvin sign for `K`): values of
    /// the same length, empty, repeated, non-ASCII, equal to another only under canonical
    /// equivalence, longer than a small string; every kind of test.
    @Test func aDictionarySearchFindsTheCodesEachValuesTestFinds() {
        var rng = SplitMix64(seed: 5)
        // With values equal under canonical equivalence but not byte for byte, of other
        // lengths: a precomposed and a decomposed é, K and the Kelvin sign.
        let pool = [
            "alice", "bob", "carol", "alicf", "", "ålice", "alice.25@acme.com", "alice.26@acme.com", "bob.7@acme.com", "x",
            "caf\u{E9}", "cafe\u{301}", "K", "\u{212A}", "\u{212A}elvin", "Kelvin",
        ]
        for round in 0..<400 {
            let values = (0..<Int(rng.next() % 12)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
            let picked = Set((0..<Int(1 + rng.next() % 6)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] })
            let prefixes = round % 4 == 0 ? ["al"] : []
            let kinds: [FieldTest.Kind] = [.anyOf(exact: picked, prefixes: prefixes), .noneOf(exact: picked, prefixes: prefixes)]
            for kind in kinds {
                let test = FieldTest(target: .field("user"), kind: kind)
                var expected: Set<UInt32> = test.passes(nil) ? [0] : []
                for (i, value) in values.enumerated() where test.passes(value) { expected.insert(UInt32(i + 1)) }
                #expect(SegmentPredicate.codes(of: values, passing: test) == expected, "round \(round): \(kind) in \(values)")
            }
        }
    }

    @Test func severalCodesSelectWhatATestOfEachRecordDoes() {
        let column: [UInt32] = (0..<100).map { UInt32($0 % 7) }
        var out: [Int] = []
        SegmentPredicate.select(column, [2, 5], negated: false, 3..<97, into: &out)
        #expect(out == (3..<97).filter { column[$0] == 2 || column[$0] == 5 })
    }
}
