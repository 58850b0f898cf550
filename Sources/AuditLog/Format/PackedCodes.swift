/// Fixed-width codes packed least significant bit first, the last byte's unused high bits zero:
/// index format 5's dimension codes and id ordinals (docs/FORMAT.md, "Column blocks") and a
/// column frame's string codes ("Column frames"). Readers unpack them their own way (a block at
/// once, or code by code) and refuse a bit set past the last code.
enum PackedCodes {
    /// The fewest bits that hold every number from 0 to `value` (0 bits when `value` ≤ 0): the
    /// width for codes below `value + 1`.
    static func bits(toHold value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }

    /// Appends `codes` in `bits` bits each (nothing when `bits` is 0); each must fit in them.
    static func append<Codes: Sequence<UInt32>, Sink: ByteSink>(_ codes: Codes, bits: Int, to w: inout Sink) {
        guard bits > 0 else { return }
        var pending: UInt64 = 0
        var filled = 0
        for code in codes {
            pending |= UInt64(code) << UInt64(filled)
            filled += bits
            while filled >= 8 {
                w.append(UInt8(truncatingIfNeeded: pending))
                pending >>= 8
                filled -= 8
            }
        }
        if filled > 0 { w.append(UInt8(truncatingIfNeeded: pending)) }
    }
}
