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
}
