import Crypto
import Foundation
import Testing

@testable import AuditLog

/// The RFC 9162 tree, its proofs and their verification against an independent reference
/// written here from the RFC's recursive definitions over plain byte arrays, and against the
/// Certificate Transparency reference roots.
@Suite struct MerkleTreeTests {
    // MARK: The reference, straight from RFC 9162 §2.1 over bytes.

    static func sha(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
    static func refLeaf(_ entry: [UInt8]) -> [UInt8] { sha([0] + entry) }
    static func refNode(_ l: [UInt8], _ r: [UInt8]) -> [UInt8] { sha([1] + l + r) }
    static func k(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
    /// MTH(D[n]) over leaf hashes.
    static func mth(_ d: ArraySlice<[UInt8]>) -> [UInt8] {
        if d.isEmpty { return sha([]) }
        if d.count == 1 { return d[d.startIndex] }
        let k = k(d.count)
        return refNode(mth(d.prefix(k)), mth(d.dropFirst(k)))
    }
    /// PATH(m, D[n]).
    static func refPath(_ m: Int, _ d: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard d.count > 1 else { return [] }
        let k = k(d.count)
        return m < k ? refPath(m, d.prefix(k)) + [mth(d.dropFirst(k))] : refPath(m - k, d.dropFirst(k)) + [mth(d.prefix(k))]
    }
    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    static func refSubproof(_ m: Int, _ d: ArraySlice<[UInt8]>, _ b: Bool) -> [[UInt8]] {
        if m == d.count { return b ? [] : [mth(d)] }
        let k = k(d.count)
        return m <= k ? refSubproof(m, d.prefix(k), b) + [mth(d.dropFirst(k))] : refSubproof(m - k, d.dropFirst(k), false) + [mth(d.prefix(k))]
    }

    static func entries(_ n: Int) -> [[UInt8]] { (0..<n).map { i in Array("entry \(i)".utf8) + [UInt8(i & 0xFF)] } }

    /// A prover over leaf hashes in memory: complete subtrees hashed from their leaves.
    static func prover(_ leaves: [TreeHash]) -> MerkleProver<Never> {
        MerkleProver { level, index in
            let lo = Int(index) << level
            return MerkleTree.perfectRoot(leaves[lo..<(lo + (1 << level))])
        }
    }

    static func hash(_ bytes: [UInt8]) -> TreeHash {
        bytes.withUnsafeBytes { TreeHash(bytes: $0) } ?? MerkleTree.emptyRoot
    }

    // MARK: Tests

    @Test func matchesTheCertificateTransparencyReferenceRoots() {
        let hex = [
            "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
        ]
        let roots = [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        let leaves = hex.map { h in
            let bytes = stride(from: 0, to: h.count, by: 2).map { i in
                UInt8(h[h.index(h.startIndex, offsetBy: i)..<h.index(h.startIndex, offsetBy: i + 2)], radix: 16) ?? 0
            }
            return bytes.withUnsafeBytes { MerkleTree.leafHash(entry: $0) }
        }
        for size in 0...8 {
            let root = Self.prover(leaves).root(size: UInt64(size))
            #expect(root.bytes.map { String(format: "%02x", $0) }.joined() == roots[size], "size \(size)")
        }
        // The published inclusion proof of leaf 0 in the tree of 8.
        let proof = Self.prover(leaves).inclusionProof(index: 0, size: 8).map { $0.bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(
            proof == [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ])
    }

    /// Roots and both proofs at every size 1…70 (every index, every pair of sizes) equal the
    /// reference, and verify; a flipped bit in any proof node, the leaf or the root is refused.
    @Test func rootsAndProofsEqualTheReferenceAtEverySizeUpTo70() {
        let entries = Self.entries(70)
        let refLeaves = entries.map(Self.refLeaf)
        let leaves = entries.map { e in e.withUnsafeBytes { MerkleTree.leafHash(entry: $0) } }
        #expect(leaves.map(\.bytes) == refLeaves)
        let prover = Self.prover(leaves)
        for n in 1...70 {
            let root = prover.root(size: UInt64(n))
            #expect(root.bytes == Self.mth(refLeaves[0..<n]), "root \(n)")
            for m in 0..<n {
                let proof = prover.inclusionProof(index: UInt64(m), size: UInt64(n))
                #expect(proof.map(\.bytes) == Self.refPath(m, refLeaves[0..<n]), "path \(m) of \(n)")
                #expect(MerkleVerifier.verifyInclusion(leafHash: leaves[m], index: UInt64(m), size: UInt64(n), proof: proof, root: root))
                if m == (n * 7) % n { Self.expectTamperingRefused(leaf: leaves[m], index: UInt64(m), size: UInt64(n), proof: proof, root: root) }
            }
            for m in 1...n {
                let proof = prover.consistencyProof(oldSize: UInt64(m), newSize: UInt64(n))
                #expect(proof.map(\.bytes) == (m == n ? [] : Self.refSubproof(m, refLeaves[0..<n], true)), "consistency \(m) → \(n)")
                let old = prover.root(size: UInt64(m))
                #expect(MerkleVerifier.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: old, newRoot: root, proof: proof), "\(m) → \(n)")
                if m < n {
                    for (i, _) in proof.enumerated() {
                        var bad = proof
                        bad[i].w1 ^= 1 << UInt64(i % 64)
                        #expect(!MerkleVerifier.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: old, newRoot: root, proof: bad))
                    }
                    var badOld = old
                    badOld.w3 ^= 0x80
                    #expect(!MerkleVerifier.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: badOld, newRoot: root, proof: proof))
                    #expect(!MerkleVerifier.verifyConsistency(oldSize: UInt64(m), newSize: UInt64(n), oldRoot: old, newRoot: root, proof: []))
                    if m > 1 {
                        #expect(!MerkleVerifier.verifyConsistency(oldSize: UInt64(m - 1), newSize: UInt64(n), oldRoot: old, newRoot: root, proof: proof))
                    }
                }
            }
        }
    }

    static func expectTamperingRefused(leaf: TreeHash, index: UInt64, size: UInt64, proof: [TreeHash], root: TreeHash) {
        for i in proof.indices {
            var bad = proof
            bad[i].w0 ^= 1
            #expect(!MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: bad, root: root))
        }
        var badLeaf = leaf
        badLeaf.w2 ^= 1 << 40
        #expect(!MerkleVerifier.verifyInclusion(leafHash: badLeaf, index: index, size: size, proof: proof, root: root))
        var badRoot = root
        badRoot.w0 ^= 1 << 7
        #expect(!MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: badRoot))
        // (The same path may also fit another size: the root, which a checkpoint binds to its
        // size, is what makes a proof mean one tree.)
        #expect(!MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof + [root], root: root))
        if !proof.isEmpty {
            #expect(!MerkleVerifier.verifyInclusion(leafHash: leaf, index: index, size: size, proof: Array(proof.dropLast()), root: root))
        }
    }

    /// Random larger sizes: proofs from a prover equal the reference and verify.
    @Test(arguments: [UInt64(11), 12])
    func randomLargerTrees(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let entries = Self.entries(1_500)
        let leaves = entries.map { e in e.withUnsafeBytes { MerkleTree.leafHash(entry: $0) } }
        let refLeaves = leaves.map(\.bytes)
        let prover = Self.prover(leaves)
        for _ in 0..<20 {
            let n = 71 + rng.below(1_429)
            let m = rng.below(n)
            let old = 1 + rng.below(n)
            let root = prover.root(size: UInt64(n))
            #expect(root.bytes == Self.mth(refLeaves[0..<n]))
            let inclusion = prover.inclusionProof(index: UInt64(m), size: UInt64(n))
            #expect(inclusion.map(\.bytes) == Self.refPath(m, refLeaves[0..<n]))
            #expect(MerkleVerifier.verifyInclusion(leafHash: leaves[m], index: UInt64(m), size: UInt64(n), proof: inclusion, root: root))
            let consistency = prover.consistencyProof(oldSize: UInt64(old), newSize: UInt64(n))
            #expect(MerkleVerifier.verifyConsistency(oldSize: UInt64(old), newSize: UInt64(n), oldRoot: prover.root(size: UInt64(old)), newRoot: root, proof: consistency))
            Self.expectTamperingRefused(leaf: leaves[m], index: UInt64(m), size: UInt64(n), proof: inclusion, root: root)
        }
    }

    @Test func hashesRoundTripThroughBase64() {
        let h = MerkleTree.emptyRoot
        #expect(h.base64 == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        #expect(TreeHash(base64: h.base64) == h)
        #expect(TreeHash(base64: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU") == nil)  // no padding
        #expect(TreeHash(base64: "AAAA") == nil)  // not 32 bytes
    }
}
