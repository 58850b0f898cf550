import Crypto

/// A 32-byte SHA-256 value of the Merkle tree (a leaf or node hash, a root).
struct TreeHash: Hashable, Sendable {
    static let byteCount = 32

    // Four words keep the value inline (no heap allocation per hash).
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    init(digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { TreeHash(unchecked: $0) }
    }

    init(_ words: SHA256Words.Words) {
        self.init(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// Exactly 32 bytes, or nil.
    init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.byteCount else { return nil }
        self.init(unchecked: bytes)
    }

    private init(unchecked raw: UnsafeRawBufferPointer) {
        w0 = raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// The 32 bytes in order.
    var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }

    /// Standard base64 of the 32 bytes (checkpoints and proofs carry hashes so).
    var base64: String { Base64.encode(bytes) }

    /// A hash from base64 text, or nil unless it decodes to exactly 32 bytes.
    init?(base64 text: String) {
        guard let bytes = Base64.decode(text), let hash = bytes.withUnsafeBytes({ TreeHash(bytes: $0) }) else { return nil }
        self = hash
    }
}

/// The Merkle tree of RFC 9162 (§2.1) over a log's entries: entry `n − 1` is the chain's
/// `leaf(n) = n:u64 ‖ record(n)` (docs/FORMAT.md, "Merkle tree"). Leaf hash
/// `SHA-256(0x00 ‖ entry)`, node hash `SHA-256(0x01 ‖ left ‖ right)`; the hash of `n` entries
/// splits them at the largest power of two below `n`.
enum MerkleTree {
    /// `MTH({})`: SHA-256 of nothing.
    static let emptyRoot = TreeHash(digest: SHA256.hash(data: [UInt8]()))

    /// The leaf hash of the entry of `seq`: `SHA-256(0x00 ‖ seq:u64 ‖ record)`.
    static func leafHash(seq: SequenceNumber, record: UnsafeRawBufferPointer) -> TreeHash {
        TreeHash(withUnsafeBytes(of: UInt8(0)) { SHA256Words.hash(prefix: $0, word: seq.rawValue, body: record) })
    }

    /// The leaf hash of entry bytes as they are: `SHA-256(0x00 ‖ entry)`.
    static func leafHash(entry: UnsafeRawBufferPointer) -> TreeHash {
        TreeHash(withUnsafeBytes(of: UInt8(0)) { SHA256Words.hash(prefix: $0, body: entry) })
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    static func nodeHash(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var children = (left, right)
        return withUnsafeBytes(of: UInt8(1)) { tag in
            withUnsafeBytes(of: &children) { TreeHash(SHA256Words.hash(prefix: tag, body: $0)) }
        }
    }

    /// The hash of consecutive hashes of equal level, as one perfect subtree (a count that
    /// is a power of two).
    static func perfectRoot(_ hashes: some Collection<TreeHash>) -> TreeHash {
        var level = Array(hashes)
        while level.count > 1 {
            var next: [TreeHash] = []
            next.reserveCapacity(level.count / 2)
            var i = 0
            while i + 1 < level.count {
                next.append(nodeHash(level[i], level[i + 1]))
                i += 2
            }
            level = next
        }
        return level.first ?? emptyRoot
    }

    /// The largest power of two strictly below `n` (`n` ≥ 2).
    static func split(_ n: UInt64) -> UInt64 {
        UInt64(1) << UInt64(63 - (n - 1).leadingZeroBitCount)
    }
}

/// Proofs over a tree whose complete subtrees a source can hash: `subtree(level, index)` is the
/// hash of entries `[index · 2^level, (index + 1) · 2^level)`. Every range the RFC's algorithms
/// hash is cut into such subtrees, so the source decides what is stored and what recomputed.
struct MerkleProver<Failure: Error> {
    /// The hash of a complete subtree.
    let subtree: (_ level: Int, _ index: UInt64) throws(Failure) -> TreeHash

    /// `MTH(D[lo..<hi])` for a range the RFC's recursion produces (`lo` aligned to the largest
    /// power of two not above `hi − lo`).
    func hash(_ lo: UInt64, _ hi: UInt64) throws(Failure) -> TreeHash {
        let n = hi - lo
        guard n > 0 else { return MerkleTree.emptyRoot }
        if n & (n - 1) == 0, lo % n == 0 {
            return try subtree(n.trailingZeroBitCount, lo / n)
        }
        let k = MerkleTree.split(n)
        return MerkleTree.nodeHash(try hash(lo, lo + k), try hash(lo + k, hi))
    }

    /// The root of the first `size` entries.
    func root(size: UInt64) throws(Failure) -> TreeHash { try hash(0, size) }

    /// RFC 9162 §2.1.3.1 `PATH(m, D[0:n])`: the inclusion proof of entry `index` in the tree of
    /// `size` entries, leaf end first.
    func inclusionProof(index: UInt64, size: UInt64) throws(Failure) -> [TreeHash] {
        var proof: [TreeHash] = []
        try path(index, 0, size, into: &proof)
        return proof
    }

    private func path(_ m: UInt64, _ lo: UInt64, _ hi: UInt64, into proof: inout [TreeHash]) throws(Failure) {
        let n = hi - lo
        guard n > 1 else { return }
        let k = MerkleTree.split(n)
        if m < k {
            try path(m, lo, lo + k, into: &proof)
            proof.append(try hash(lo + k, hi))
        } else {
            try path(m - k, lo + k, hi, into: &proof)
            proof.append(try hash(lo, lo + k))
        }
    }

    /// RFC 9162 §2.1.4.1 `PROOF(m, D[0:n])`: the consistency proof from `oldSize` to `newSize`
    /// (empty when they are equal or `oldSize` is 0).
    func consistencyProof(oldSize: UInt64, newSize: UInt64) throws(Failure) -> [TreeHash] {
        guard oldSize > 0, oldSize < newSize else { return [] }
        var proof: [TreeHash] = []
        try subproof(oldSize, 0, newSize, complete: true, into: &proof)
        return proof
    }

    private func subproof(_ m: UInt64, _ lo: UInt64, _ hi: UInt64, complete b: Bool, into proof: inout [TreeHash]) throws(Failure) {
        let n = hi - lo
        if m == n {
            if !b { proof.append(try hash(lo, hi)) }
            return
        }
        let k = MerkleTree.split(n)
        if m <= k {
            try subproof(m, lo, lo + k, complete: b, into: &proof)
            proof.append(try hash(lo + k, hi))
        } else {
            try subproof(m - k, lo + k, hi, complete: false, into: &proof)
            proof.append(try hash(lo, lo + k))
        }
    }
}

/// Checks proofs knowing only hashes (RFC 9162 §2.1.3.2 and §2.1.4.2): what an auditor runs.
enum MerkleVerifier {
    /// Whether `proof` shows the leaf `leafHash` at `index` in the tree of `size` entries with
    /// root `root`.
    static func verifyInclusion(leafHash: TreeHash, index: UInt64, size: UInt64, proof: [TreeHash], root: TreeHash) -> Bool {
        guard index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleTree.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleTree.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `newSize` entries with root `newRoot` extends the
    /// one of `oldSize` entries with root `oldRoot`.
    static func verifyConsistency(oldSize: UInt64, newSize: UInt64, oldRoot: TreeHash, newRoot: TreeHash, proof: [TreeHash]) -> Bool {
        guard oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof[...]
        // When the old size is a power of two the old root is the proof's implicit first node.
        if oldSize & (oldSize - 1) == 0 { path = [oldRoot] + path }
        guard let first = path.first else { return false }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first
        var sr = first
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleTree.nodeHash(c, fr)
                sr = MerkleTree.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }
}
