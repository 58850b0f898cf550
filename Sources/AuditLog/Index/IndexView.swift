/// What a query reads of one segment's index.
struct IndexView: Sendable {
    struct IDs: Sendable {
        /// Sorted hashes with their ordinals (sealed), or one hash per ordinal (active).
        var hashes: [UInt32]
        var ordinals: [UInt32]
        var sorted: Bool

        /// Ordinals whose id hash is `hash`.
        func ordinals(matching hash: UInt32) -> [Int] {
            guard sorted else { return hashes.indices.filter { hashes[$0] == hash } }
            var lo = hashes.interpolatedLowerBound(of: hash)
            var out: [Int] = []
            while lo < hashes.count && hashes[lo] == hash {
                out.append(Int(ordinals[lo]))
                lo += 1
            }
            return out
        }
    }

    var segment: SegmentInfo
    var frames: [FrameEntry]
    /// Per dictionary column, its values; empty unless a part that needs them was asked for
    /// (``IndexStore/Part/needsDictionaries``): read them through ``dictionary(_:)``.
    var dictionaries: [[String]]
    var columns: IndexColumns?
    var ids: IDs?
    /// Present for sealed segments with an index file (or a rebuilt one).
    var rollups: [RollupKey: UsageAggregate]?
    /// The dimensions `rollups` has rows for (an index file of version 1 lacks some).
    var rolledUp: Set<Dimension> = Set(Dimension.rolledUp)
    /// The dimensions (bit: rollup dimension byte, 0 the total) with hourly rows
    /// (``IndexData/hourlyMask``).
    var hourlyMask: UInt16 = IndexData.everyHourly

    /// Whether the rollups answer a group by `dimension` (nil: none), per hour when `hourly`.
    func rollsUp(_ dimension: Dimension?, hourly: Bool) -> Bool {
        if let dimension, !rolledUp.contains(dimension) { return false }
        return !hourly || hourlyMask & (1 << (dimension?.rollupCode ?? 0)) != 0
    }

    /// The values of dictionary column `column` (code `i + 1` is value `i`).
    func dictionary(_ column: Int) -> [String] {
        assert(dictionaries.indices.contains(column), "the view was made without the dictionaries")
        return dictionaries.indices.contains(column) ? dictionaries[column] : []
    }

    /// The value of `code` in `dimension` (nil for 0, none, or a code this segment lacks).
    func string(_ dimension: Dimension, code: UInt32) -> String? {
        guard let column = dimension.column else { return Verdict(code: UInt8(truncatingIfNeeded: code))?.rawValue }
        let values = dictionary(column)
        guard code > 0, Int(code) <= values.count else { return nil }
        return values[Int(code) - 1]
    }
}
