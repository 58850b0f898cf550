/// Times and other numbers stored as zigzag varint deltas in a decimal unit: index format 3–5's
/// timestamp columns and a column frame's times (docs/FORMAT.md). Zigzag maps a delta of either
/// sign to an unsigned number as small as its magnitude (0, −1, 1, −2 … → 0, 1, 2, 3 …).
enum DeltaCoding {
    static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    /// 10⁰ … 10⁹: the time units, by exponent.
    static let powersOf10: [Int64] = (0...9).map { k in (0..<k).reduce(Int64(1)) { p, _ in p * 10 } }

    /// The largest k ≤ 9 such that every time is a multiple of 10^k ns (6 for times in whole
    /// milliseconds).
    static func timeUnitExponent<Times: Sequence<Int64>>(_ times: Times) -> Int {
        var k = 9
        for ts in times {
            while k > 0 && ts % powersOf10[k] != 0 { k -= 1 }
            if k == 0 { break }
        }
        return k
    }
}
