import Testing

@testable import AuditLog

/// A dictionary column's selection (``SegmentPredicate/select(_:_:negated:_:into:)``) compares
/// eight codes at once for one code: every range — any start, any length, the tail past the
/// last group of eight — finds exactly what a record-by-record test finds.
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

    @Test func severalCodesSelectWhatATestOfEachRecordDoes() {
        let column: [UInt32] = (0..<100).map { UInt32($0 % 7) }
        var out: [Int] = []
        SegmentPredicate.select(column, [2, 5], negated: false, 3..<97, into: &out)
        #expect(out == (3..<97).filter { column[$0] == 2 || column[$0] == 5 })
    }
}
