/// The dictionary codes of one column's values, found by their UTF-8 bytes: a value seen
/// before costs a hash of its bytes and a comparison, no `String` (an index reads every
/// record's user, team, model… and nearly all are repeats).
struct ValueCodes: Sendable {
    /// Open addressing with linear probing: 0 empty, else a code (value index + 1). At most
    /// half full.
    private var slots = [UInt32](repeating: 0, count: 16)
    /// The values back to back, value `i` ending at `ends[i]`, and each one's hash.
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var hashes: [UInt64] = []

    init() {}

    /// A table of `values` with codes 1, 2, … in their order (a repeated value keeps its first).
    init(_ values: [String]) {
        for value in values {
            value.withUTF8Bytes { raw in
                let hash = Self.hash(raw)
                if code(of: raw, hash: hash) == nil { _ = insert(raw, hash: hash) } else { appendUnreachable(raw, hash: hash) }
            }
        }
    }

    var count: Int { ends.count }

    /// The bytes of all values together.
    var byteCount: Int { bytes.count }

    /// Empties the table, keeping its memory (an encoder's table, reused frame after frame).
    mutating func removeAll() {
        if slots.count > 16 || ends.count > 0 {
            for i in slots.indices { slots[i] = 0 }
        }
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the bytes of value `index` (code `index + 1`).
    func withValue<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range(index)])) }
    }

    /// A hash of `raw` for this table only (never stored): values of up to 32 bytes — nearly
    /// every user, team, model, key or request id — mixed inline from a few overlapping words
    /// (an encoder hashes every value of every string column of every frame), longer ones by XXH3.
    @inline(__always)
    static func hash(_ raw: UnsafeRawBufferPointer) -> UInt64 {
        let n = raw.count
        guard n <= 32 else { return Checksum.xxh3(raw) }
        var a: UInt64 = 0
        var b: UInt64 = 0
        if n >= 8 {
            a = raw.loadUnaligned(as: UInt64.self)
            b = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            a = UInt64(raw.loadUnaligned(as: UInt32.self))
            b = UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else if n > 0 {
            a = UInt64(raw[0]) | UInt64(raw[n / 2]) << 8 | UInt64(raw[n - 1]) << 16
        }
        var mixed = (a ^ 0x9E37_79B9_7F4A_7C15).multipliedFullWidth(by: b ^ 0xC2B2_AE3D_27D4_EB4F ^ UInt64(n))
        if n > 16 {
            let c = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let d = raw.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
            let more = (c ^ 0x1656_67B1_9E37_79F9 ^ mixed.low).multipliedFullWidth(by: d ^ 0x85EB_CA77_C2B2_AE63 ^ mixed.high)
            mixed = (more.high, more.low)
        }
        return mixed.high ^ mixed.low
    }

    /// The code of the value `raw` (whose ``hash(_:)`` is `hash`), nil when it has none yet.
    func code(of raw: UnsafeRawBufferPointer, hash: UInt64) -> UInt32? {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let code = slots[i]
            if code == 0 { return nil }
            let index = Int(code) - 1
            if hashes[index] == hash && equals(index, raw) { return code }
            i = (i + 1) & mask
        }
    }

    /// Adds a value the table does not hold; returns its code.
    mutating func insert(_ raw: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        appendUnreachable(raw, hash: hash)
        let code = UInt32(ends.count)
        if ends.count * 2 > slots.count {
            slots = [UInt32](repeating: 0, count: slots.count * 2)
            // In code order, so that of repeated values (a dictionary read back) the first is
            // the one found.
            for index in 0..<ends.count where find(index) == nil { place(UInt32(index + 1)) }
        } else {
            place(code)
        }
        return code
    }

    /// Where value `index` lies in `bytes`.
    private func range(_ index: Int) -> Range<Int> { (index == 0 ? 0 : ends[index - 1])..<ends[index] }

    /// The code found for the value of `index`.
    private func find(_ index: Int) -> UInt32? {
        bytes.withUnsafeBytes { code(of: UnsafeRawBufferPointer(rebasing: $0[range(index)]), hash: hashes[index]) }
    }

    /// Stores a value under the next code without making it findable (a repeat of an earlier
    /// value in a dictionary read back keeps the codes in step).
    private mutating func appendUnreachable(_ raw: UnsafeRawBufferPointer, hash: UInt64) {
        bytes.append(contentsOf: raw)
        ends.append(bytes.count)
        hashes.append(hash)
    }

    private mutating func place(_ code: UInt32) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hashes[Int(code) - 1]) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = code
    }

    private func equals(_ index: Int, _ raw: UnsafeRawBufferPointer) -> Bool {
        let stored = range(index)
        guard stored.count == raw.count else { return false }
        return bytes.withUnsafeBytes { all in
            let value = UnsafeRawBufferPointer(rebasing: all[stored])
            var i = 0
            while i + 8 <= raw.count {
                guard value.loadUnaligned(fromByteOffset: i, as: UInt64.self) == raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) else { return false }
                i += 8
            }
            while i < raw.count {
                guard value[i] == raw[i] else { return false }
                i += 1
            }
            return true
        }
    }
}
