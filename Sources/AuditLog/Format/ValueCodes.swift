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
        // A slot is set only by a value added since the last emptying.
        if !ends.isEmpty {
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

    static func hash(_ raw: UnsafeRawBufferPointer) -> UInt64 { Checksum.xxh3(raw) }

    /// The code of the value `raw` (whose ``hash(_:)`` is `hash`), nil when it has none yet.
    @inline(__always)
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

    @inline(__always)
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
