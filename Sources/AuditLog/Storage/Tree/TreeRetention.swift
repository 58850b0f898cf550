/// What a sweep must keep of the tree before it deletes segments (docs/FORMAT.md, "Merkle tree",
/// "After a sweep"): every node a proof about the entries that remain, or about a signed
/// checkpoint's size, will still need and the records can no longer give. Nodes of tile level
/// ≥ 1 are stored anyway; below that (tree heights 0–7, inside one tile of 256 entries) this keeps:
///
/// - the leaf hashes of swept entries that share a tile with entries that remain (inclusion
///   proofs of those need them), or may: of a tile that spans two of the segments going (a
///   sweep cut short between them leaves the tile part live);
/// - for each checkpoint size `M` whose tile is swept, the aligned subtrees that make up the
///   tile on either side of `M` (roots at `M`, and consistency and inclusion proofs at `M`).
enum TreeRetention {
    /// The nodes to keep when the entries of `removing` go; `segments` is every segment now.
    static func nodesToKeep(
        _ directory: LogDirectory, segments: [SegmentInfo], removing: Set<String>, checkpointSizes: [UInt64], kept: KeptNodes
    ) throws(AuditLogError) -> [KeptNodes.Key: TreeHash] {
        let width = UInt64(TreeWriter.tileWidth)
        let removed = segments.filter { removing.contains($0.fileName) && $0.recordCount > 0 }
        guard !removed.isEmpty else { return [:] }
        let remaining = segments.filter { !removing.contains($0.fileName) && $0.recordCount > 0 }
        func isLive(_ entry: UInt64) -> Bool {
            remaining.contains { s in s.firstSeq.rawValue <= entry + 1 && entry + 1 <= (s.lastSeq?.rawValue ?? 0) }
        }
        func isRemoved(_ entry: UInt64) -> Bool {
            removed.contains { s in s.firstSeq.rawValue <= entry + 1 && entry + 1 <= (s.lastSeq?.rawValue ?? 0) }
        }
        let total = segments.last.flatMap { $0.lastSeq?.rawValue } ?? 0
        var tiles = Set<UInt64>()
        for s in removed {
            let first = (s.firstSeq.rawValue - 1) / width
            let last = ((s.lastSeq?.rawValue ?? s.firstSeq.rawValue) - 1) / width
            for t in first...last { tiles.insert(t) }
        }
        var out: [KeptNodes.Key: TreeHash] = [:]
        // A long-running signer stores a checkpoint every few seconds: search, do not scan.
        let signed = checkpointSizes.sorted()
        func firstIndex(above bound: UInt64) -> Int {
            var low = 0
            var high = signed.count
            while low < high {
                let mid = (low + high) / 2
                if signed[mid] > bound { high = mid } else { low = mid + 1 }
            }
            return low
        }
        for tile in tiles.sorted() {
            let lo = tile * width
            let hi = min(lo + width, total)
            var sizes: [UInt64] = []
            var i = firstIndex(above: lo)
            while i < signed.count, signed[i] <= hi, signed[i] < lo + width {
                if sizes.last != signed[i] { sizes.append(signed[i]) }
                i += 1
            }
            // Leaves of the removed entries stay when the tile keeps live entries — or may: the
            // segments go one at a time, so a sweep cut short between two of them leaves the
            // tile part swept, part live.
            let removedHere = removed.count { s in s.firstSeq.rawValue <= hi && (s.lastSeq?.rawValue ?? 0) > lo }
            let shared = removedHere > 1 || (lo..<hi).contains { !isRemoved($0) && isLive($0) }
            var wanted: [KeptNodes.Key] = []
            if shared {
                for entry in lo..<hi where isRemoved(entry) { wanted.append(KeptNodes.Key(level: 0, index: entry)) }
            }
            for m in sizes where hi == lo + width || m <= hi {
                for (level, index) in decomposition(lo, m) + decomposition(m, min(lo + width, hi)) { wanted.append(KeptNodes.Key(level: level, index: index)) }
            }
            wanted.removeAll { kept[$0.level, $0.index] != nil }
            guard !wanted.isEmpty else { continue }
            // A leaf an older sweep removed without keeping is gone for good: the nodes over it
            // cannot be kept now, and that must not stop this sweep (or every later one).
            let leaves = try TreeLeaves.availableHashes(directory, segments: segments, entries: lo..<hi, kept: kept)
            for key in wanted {
                let first = Int((key.index << UInt64(key.level)) - lo)
                let under = leaves[first..<(first + (1 << key.level))].compactMap { $0 }
                if under.count == 1 << key.level { out[key] = MerkleTree.perfectRoot(under) }
            }
        }
        return out
    }

    /// `[a, b)` cut into aligned complete subtrees, left to right: (height, index).
    static func decomposition(_ a: UInt64, _ b: UInt64) -> [(Int, UInt64)] {
        var out: [(Int, UInt64)] = []
        var at = a
        while at < b {
            var level = at == 0 ? 63 : at.trailingZeroBitCount
            while level > 0 && at + (UInt64(1) << UInt64(level)) > b { level -= 1 }
            out.append((level, at >> UInt64(level)))
            at += UInt64(1) << UInt64(level)
        }
        return out
    }
}
