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
