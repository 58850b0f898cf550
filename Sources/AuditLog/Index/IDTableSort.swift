/// The id table of an index (docs/FORMAT.md, "Index file"): every record's 32-bit id hash,
/// sorted ascending, with the ordinal of each, equal hashes in ordinal order.
enum IDTableSort {
    /// Sorts `hashes` (one per record, ordinal `i` at position `i`) into the table's two
    /// columns. A stable radix sort on the hash, three passes of 11 bits: positions come in
    /// ascending, so equal hashes keep ordinal order. Linear, with no comparisons: a
    /// comparison sort of 64-bit (hash, ordinal) keys took about a twentieth of a seal's
    /// index build.
    static func sorted(_ hashes: [UInt32]) -> (hashes: [UInt32], ordinals: [UInt32]) {
        let n = hashes.count
        guard n > 1 else { return (hashes, n == 1 ? [0] : []) }
        let digitBits: UInt32 = 11
        let radix = 1 << digitBits
        let mask = UInt32(radix - 1)
        // Where each digit value starts in every pass, counted in one read of the hashes.
        var starts = [Int](repeating: 0, count: 3 * radix)
        hashes.withUnsafeBufferPointer { h in
            starts.withUnsafeMutableBufferPointer { s in
                for hash in h {
                    s[Int(hash & mask)] &+= 1
                    s[radix + Int(hash >> digitBits & mask)] &+= 1
                    s[2 * radix + Int(hash >> (2 * digitBits))] &+= 1
                }
                for pass in 0..<3 {
                    var total = 0
                    for d in (pass * radix)..<((pass + 1) * radix) {
                        let count = s[d]
                        s[d] = total
                        total &+= count
                    }
                }
            }
        }
        var keys = hashes
        var ordinals = [UInt32](unsafeUninitializedCapacity: n) { out, initialized in
            for i in 0..<n { out.initializeElement(at: i, to: UInt32(truncatingIfNeeded: i)) }
            initialized = n
        }
        var keysOut = [UInt32](repeating: 0, count: n)
        var ordinalsOut = [UInt32](repeating: 0, count: n)
        for pass in 0..<3 {
            let shift = UInt32(pass) * digitBits
            let offset = pass * radix
            keys.withUnsafeBufferPointer { k in
                ordinals.withUnsafeBufferPointer { o in
                    keysOut.withUnsafeMutableBufferPointer { ko in
                        ordinalsOut.withUnsafeMutableBufferPointer { oo in
                            starts.withUnsafeMutableBufferPointer { s in
                                for i in 0..<n {
                                    let key = k[i]
                                    let slot = offset + Int(key >> shift & mask)
                                    let to = s[slot]
                                    s[slot] = to &+ 1
                                    ko[to] = key
                                    oo[to] = o[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &keysOut)
            swap(&ordinals, &ordinalsOut)
        }
        return (keys, ordinals)
    }
}
