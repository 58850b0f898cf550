extension FrameColumns {
    /// How many of a run of records have each presence bit — the number of values each of a
    /// column frame's sections gives them — counted with bit-sliced binary counters: slice *k*
    /// holds bit *k* of every bit's count, so adding a record costs a carry through a few
    /// slices (XORs and ANDs on one word), not an increment in memory for each field it has.
    struct PresenceCounts {
        /// Bit 27 of an added word: the record has a tail (any of bits 21–25).
        private static let tailBit = 27
        private var slices: [UInt32]
        /// Records added.
        private(set) var records = 0
        /// The slices a count reaches (the rest are zero).
        private var depth = 0

        init() { slices = [UInt32](repeating: 0, count: UInt32.bitWidth + 1) }

        /// Counts one record's presence (its bits 0–20, the compact-id bit 26 and whether it
        /// has a tail).
        @inline(__always)
        mutating func add(_ presence: UInt32) {
            var carry = presence & ((1 << 21) - 1 | compactIDMask) | (presence & tailMask != 0 ? 1 << UInt32(Self.tailBit) : 0)
            records += 1
            let reached = slices.withUnsafeMutableBufferPointer { s in
                var k = 0
                while carry != 0 && k < s.count {
                    let slice = s[k]
                    s[k] = slice ^ carry
                    carry &= slice
                    k += 1
                }
                return k
            }
            depth = max(depth, reached)
        }

        /// Records added with presence bit `bit` (0–20 or 26).
        func records(withBit bit: Int) -> Int {
            var count = 0
            for k in 0..<depth { count |= Int(slices[k] >> UInt32(bit) & 1) << k }
            return count
        }

        /// Records added with a compact id (bit 26), and with a text id.
        var compactIDs: Int { records(withBit: 26) }
        var textIDs: Int { records - compactIDs }
        /// Records added with a tail (any of bits 21–25).
        var tails: Int { records(withBit: Self.tailBit) }
    }
}
