/// An open-addressing multimap from a 32-bit hash to nonzero 64-bit entries, for
/// ``IDIndex``: two flat arrays and linear probing, no per-entry allocation and no rehash of
/// the keys (they are hashes already). A key may hold several entries; they sit in the same
/// probe run, and a lookup walks the run to its first empty slot.
struct HashSlots {
    private var keys: [UInt32] = []
    /// 0 marks an empty slot.
    private var values: [UInt64] = []
    private var shift = 64
    private(set) var count = 0

    /// Where a lookup of `key` is: the next slot to look at and the key it wants.
    struct Cursor {
        fileprivate var slot: Int
        fileprivate let key: UInt32
    }

    /// Spreads the key's bits over the table (Fibonacci hashing on the top bits).
    private func home(_ key: UInt32) -> Int {
        keys.isEmpty ? 0 : Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    func firstSlot(_ key: UInt32) -> Cursor { Cursor(slot: home(key), key: key) }

    /// The next entry of the cursor's key, or nil when its run ends.
    func next(_ cursor: inout Cursor) -> UInt64? {
        guard !keys.isEmpty else { return nil }
        let mask = keys.count - 1
        while true {
            let value = values[cursor.slot]
            if value == 0 { return nil }
            let key = keys[cursor.slot]
            cursor.slot = (cursor.slot + 1) & mask
            if key == cursor.key { return value }
        }
    }

    /// Adds an entry (`value` ≠ 0) for `key`, beside any it already has.
    mutating func insert(_ key: UInt32, _ value: UInt64) {
        precondition(value != 0, "0 marks an empty slot")
        if (count + 1) * 4 > keys.count * 3 { grow(toHold: count + 1) }
        place(key, value)
        count += 1
    }

    /// Sizes the table for `count` entries without growing again.
    mutating func reserve(_ count: Int) {
        if count * 4 > keys.count * 3 { grow(toHold: count) }
    }

    private mutating func place(_ key: UInt32, _ value: UInt64) {
        let mask = keys.count - 1
        var slot = home(key)
        while values[slot] != 0 { slot = (slot + 1) & mask }
        keys[slot] = key
        values[slot] = value
    }

    private mutating func grow(toHold n: Int) {
        var capacity = max(keys.count, 64)
        while n * 4 > capacity * 3 { capacity *= 2 }
        let oldKeys = keys
        let oldValues = values
        keys = Array(repeating: 0, count: capacity)
        values = Array(repeating: 0, count: capacity)
        shift = 64 - capacity.trailingZeroBitCount
        for i in oldValues.indices where oldValues[i] != 0 { place(oldKeys[i], oldValues[i]) }
    }
}
