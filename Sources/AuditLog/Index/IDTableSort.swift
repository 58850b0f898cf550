/// The id table of an index (docs/FORMAT.md, "Index file"): every record's 32-bit id hash,
/// sorted ascending, with the ordinal of each, equal hashes in ordinal order.
enum IDTableSort {
    /// Sorts `hashes` (one per record, ordinal `i` at position `i`) into the table's two
    /// columns. A stable radix sort of the ordinals by their hashes, three passes of 11 bits:
    /// ordinals come in ascending, so equal hashes keep ordinal order. Linear, with no
    /// comparisons: a comparison sort of 64-bit (hash, ordinal) keys took about a twentieth of
    /// a seal's index build.
    static func sorted(_ hashes: [UInt32]) -> (hashes: [UInt32], ordinals: [UInt32]) {
        let n = hashes.count
        let digitBits: UInt32 = 11
        let radix = 1 << digitBits
        let mask = UInt32(radix - 1)
        func slot(_ hash: UInt32, pass: Int) -> Int { pass * radix + Int(hash >> (UInt32(pass) * digitBits) & mask) }
        var ordinals = (0..<n).map { UInt32(truncatingIfNeeded: $0) }
        var scratch = [UInt32](repeating: 0, count: n)
        // Where each digit value starts in every pass, counted in one read of the hashes.
        var starts = [Int](repeating: 0, count: 3 * radix)
        hashes.withUnsafeBufferPointer { h in
            starts.withUnsafeMutableBufferPointer { s in
                for hash in h {
                    for pass in 0..<3 { s[slot(hash, pass: pass)] &+= 1 }
                }
                var total = 0
                for d in s.indices {
                    if d % radix == 0 { total = 0 }
                    (s[d], total) = (total, total &+ s[d])
                }
                for pass in 0..<3 {
                    ordinals.withUnsafeBufferPointer { from in
                        scratch.withUnsafeMutableBufferPointer { to in
                            for ordinal in from {
                                let d = slot(h[Int(ordinal)], pass: pass)
                                to[s[d]] = ordinal
                                s[d] &+= 1
                            }
                        }
                    }
                    swap(&ordinals, &scratch)
                }
            }
        }
        return (ordinals.map { hashes[Int($0)] }, ordinals)
    }
}
