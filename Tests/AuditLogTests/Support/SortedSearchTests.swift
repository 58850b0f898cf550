import Testing

@testable import AuditLog

/// `lowerBound(of:)` finds the first element not below a value, as a linear search does, in
/// arrays with repeats, gaps, and on slices that do not start at zero.
@Suite struct SortedSearchTests {
    @Test func lowerBoundAgreesWithALinearSearch() {
        var rng = SplitMix64(seed: 3)
        for n in [0, 1, 2, 7, 64, 200] {
            let values = (0..<n).map { _ in Int(rng.next() % 50) }.sorted()
            for probe in -1...51 {
                #expect(values.lowerBound(of: probe) == (values.firstIndex { $0 >= probe } ?? values.count), "\(probe) in \(values)")
                let slice = values.dropFirst(n / 3)
                #expect(slice.lowerBound(of: probe) == (slice.firstIndex { $0 >= probe } ?? slice.endIndex), "\(probe) in \(slice)")
            }
        }
    }

    /// The search that guesses from the value finds what the binary search finds: hashes spread
    /// evenly, crowded into a corner (ids chosen to defeat the guess), repeated, at both ends of
    /// the range, in arrays of every small size and some large ones, for values in and between.
    @Test func aGuessedSearchAgreesWithTheBinarySearch() {
        var rng = SplitMix64(seed: 9)
        for round in 0..<600 {
            let n = round < 300 ? round % 40 : Int(rng.next() % 5_000)
            let values: [UInt32] = (0..<n).map { _ in
                switch round % 4 {
                case 0: UInt32(truncatingIfNeeded: rng.next())
                case 1: UInt32(rng.next() % 64)  // crowded and repeated
                case 2: rng.next() % 2 == 0 ? UInt32(rng.next() % 8) : UInt32.max - UInt32(rng.next() % 8)  // both ends
                default: UInt32(truncatingIfNeeded: rng.next() >> UInt64(rng.next() % 40))  // skewed
                }
            }.sorted()
            var probes: [UInt32] = [0, 1, UInt32.max, UInt32.max - 1, UInt32(truncatingIfNeeded: rng.next())]
            for _ in 0..<8 where !values.isEmpty {
                let v = values[Int(rng.next() % UInt64(n))]
                probes += [v, v &+ 1, v &- 1]
            }
            for probe in probes {
                #expect(values.interpolatedLowerBound(of: probe) == values.lowerBound(of: probe), "\(probe) in \(n) values (round \(round))")
            }
        }
    }
}
