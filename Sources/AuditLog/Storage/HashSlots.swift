import CAuditLogXXHash

/// An open-addressing multimap from a 32-bit hash to nonzero 64-bit entries, for
/// ``IDIndex``: one flat array of (key, entry) slots — a probe touches one cache line, which
/// matters once the table outgrows the caches — and linear probing, no per-entry allocation and
/// no rehash of the keys (they are hashes already). A key may hold several entries; they sit in the same
/// probe run, and a lookup walks the run to its first empty slot.
struct HashSlots {
    /// 12 bytes, not the 16 a (UInt32, UInt64) pair pads to: at 10M ids the table is ~190 MB
    /// instead of ~256, and every growth faults in a fresh table.
    private struct Slot {
        var key: UInt32
        private var low: UInt32
        private var high: UInt32

        init(key: UInt32, value: UInt64) {
            self.key = key
            low = UInt32(truncatingIfNeeded: value)
            high = UInt32(truncatingIfNeeded: value >> 32)
        }

        /// 0 marks an empty slot.
        var value: UInt64 { UInt64(high) << 32 | UInt64(low) }
        var isEmpty: Bool { low | high == 0 }
    }

    private var slots: [Slot] = []
    private var shift = 64
    private(set) var count = 0

    /// Where a lookup of `key` is: the next slot to look at and the key it wants.
    struct Cursor {
        fileprivate var slot: Int
        fileprivate let key: UInt32
    }

    /// Spreads the key's bits over the table (Fibonacci hashing on the top bits).
    private func home(_ key: UInt32) -> Int {
        slots.isEmpty ? 0 : Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    func firstSlot(_ key: UInt32) -> Cursor { Cursor(slot: home(key), key: key) }

    /// Starts loading the slot a lookup or insert of `key` reads first, so that a batch's keys,
    /// prefetched together, miss the caches together rather than one after another.
    func prefetch(_ key: UInt32) {
        slots.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            auditlog_prefetch(base + home(key))
        }
    }

    /// The next entry of the cursor's key, or nil when its run ends.
    func next(_ cursor: inout Cursor) -> UInt64? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        while true {
            let slot = slots[cursor.slot]
            if slot.isEmpty { return nil }
            cursor.slot = (cursor.slot + 1) & mask
            if slot.key == cursor.key { return slot.value }
        }
    }

    /// Adds an entry (`value` ≠ 0) for `key`, beside any it already has.
    mutating func insert(_ key: UInt32, _ value: UInt64) {
        precondition(value != 0, "0 marks an empty slot")
        if (count + 1) * 4 > slots.count * 3 { grow(toHold: count + 1) }
        place(key, value)
        count += 1
    }

    /// Sizes the table for `count` entries without growing again.
    mutating func reserve(_ count: Int) {
        if count * 4 > slots.count * 3 { grow(toHold: count) }
    }

    private mutating func place(_ key: UInt32, _ value: UInt64) {
        let mask = slots.count - 1
        var i = home(key)
        while !slots[i].isEmpty { i = (i + 1) & mask }
        slots[i] = Slot(key: key, value: value)
    }

    private mutating func grow(toHold n: Int) {
        var capacity = max(slots.count, 64)
        while n * 4 > capacity * 3 { capacity *= 2 }
        let old = slots
        slots = Array(repeating: Slot(key: 0, value: 0), count: capacity)
        shift = 64 - capacity.trailingZeroBitCount
        for slot in old where !slot.isEmpty { place(slot.key, slot.value) }
    }
}
