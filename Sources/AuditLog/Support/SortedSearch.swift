extension RandomAccessCollection where Element: Comparable, Index == Int {
    /// In ascending elements, the index of the first that is not below `value` (`endIndex`
    /// when all are).
    func lowerBound(of value: Element) -> Int {
        var lo = startIndex
        var hi = endIndex
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if self[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension Array where Element == UInt32 {
    /// ``lowerBound(of:)`` for ascending hashes spread evenly over all 32 bits (an index's id
    /// hashes): a few steps guess the place from the value — each probe a cache line the next
    /// narrows around — then a binary search finishes; ids chosen to crowd their hashes cost
    /// those few probes more than a binary search, nothing worse. One lookup by id searches
    /// every segment's table, where a plain binary search missed the cache at most of its ~15
    /// probes.
    func interpolatedLowerBound(of value: UInt32) -> Int {
        withUnsafeBufferPointer { a in
            // Everything below `lo` is below `value` (the last of them `low`); everything from
            // `hi` on is not (the first of them `high`; 2³² past the end).
            var lo = 0
            var hi = a.count
            var low: UInt64 = 0
            var high: UInt64 = 1 << 32
            let target = UInt64(value)
            var guesses = 0
            while hi - lo > 16, guesses < 4, high > low {
                guesses += 1
                let offset = Int((target - low) * UInt64(hi - lo) / (high - low))
                let mid = Swift.min(lo + offset, hi - 1)
                if a[mid] < value {
                    lo = mid + 1
                    low = UInt64(a[mid])
                } else {
                    hi = mid
                    high = UInt64(a[mid])
                }
            }
            return a[lo..<hi].lowerBound(of: value)
        }
    }
}
