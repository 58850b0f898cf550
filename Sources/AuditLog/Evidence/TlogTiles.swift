/// The C2SP tlog-tiles read API over the log's tree (docs/HTTP.md, "/tlog/"), so that
/// transparency tooling and witnesses can follow the log: hash tiles of height 8 and entry
/// bundles, full (256 wide) or partial (`.p/<W>`).
///
/// A tile at level `L`, index `N` holds the hashes of the tree nodes of height `8·L` with
/// indexes `256·N ..< 256·N + W`: leaf hashes at level 0, the stored level files above. An
/// entry bundle holds entries `256·N ..< 256·N + W`, each as a big-endian `uint16` length and
/// the entry bytes (`seq:u64 ‖ record`).
package enum TlogTiles {
    /// A tile request parsed from its path.
    package struct Tile: Sendable, Hashable {
        /// Tile level (0 = leaf hashes), or nil for an entry bundle.
        package var level: Int?
        package var index: UInt64
        /// 256 for a full tile, 1–255 for a partial one.
        package var width: Int

        package init(level: Int?, index: UInt64, width: Int) {
            self.level = level
            self.index = index
            self.width = width
        }
    }

    /// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (the part after `/tlog/`),
    /// accepting only the canonical form: `N` in groups of three digits, each but the last
    /// prefixed with `x`; `W` in 1…255 without leading zeros.
    package static func parse(_ path: String) -> Tile? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, parts[0] == "tile" else { return nil }
        parts.removeFirst()
        var level: Int?
        if parts[0] == "entries" {
            level = nil
        } else {
            guard let l = Int(parts[0]), String(l) == parts[0], l >= 0, l < 8 else { return nil }
            level = l
        }
        parts.removeFirst()
        var width = 256
        if parts.count >= 2, parts[parts.count - 2].hasSuffix(".p") {
            guard let w = Int(parts[parts.count - 1]), String(w) == parts[parts.count - 1], w >= 1, w <= 255 else { return nil }
            width = w
            parts.removeLast()
            parts[parts.count - 1] = String(parts[parts.count - 1].dropLast(2))
        }
        guard !parts.isEmpty, parts.count <= 7 else { return nil }
        var index: UInt64 = 0
        for (i, part) in parts.enumerated() {
            let last = i == parts.count - 1
            let digits = last ? Substring(part) : (part.hasPrefix("x") ? part.dropFirst() : "")
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let group = UInt64(digits) else { return nil }
            let (product, overflow) = index.multipliedReportingOverflow(by: 1000)
            let (sum, carry) = product.addingReportingOverflow(group)
            guard !overflow, !carry else { return nil }
            index = sum
        }
        let tile = Tile(level: level, index: index, width: width)
        // Exactly one spelling per index: no leading "x000" groups.
        return path == Self.path(tile) ? tile : nil
    }

    /// The canonical path of a tile (after `/tlog/`).
    package static func path(_ tile: Tile) -> String {
        var groups: [String] = []
        var n = tile.index
        repeat {
            let group = String(n % 1000)
            groups.insert(String(repeating: "0", count: 3 - group.count) + group, at: 0)
            n /= 1000
        } while n > 0
        let number = groups.enumerated().map { $0.offset < groups.count - 1 ? "x" + $0.element : $0.element }.joined(separator: "/")
        let partial = tile.width < 256 ? ".p/\(tile.width)" : ""
        return "tile/\(tile.level.map(String.init) ?? "entries")/\(number)\(partial)"
    }
}

extension AuditLog {
    /// The bytes of `tile`, or nil when the tree does not hold it (past its end, or a partial
    /// tile where the full one exists, or below a swept range the records of which are gone).
    package func tlogTile(_ tile: TlogTiles.Tile) async throws(AuditLogError) -> [UInt8]? {
        try await BlockingIO.run { () throws(AuditLogError) -> [UInt8]? in try self.tlogTileBlocking(tile, reader: try self.treeReader()) }
    }

    /// ``tlogTile(_:)`` on the calling thread, for the tree `reader` reads (of its size: a
    /// partial tile is its edge at that size).
    func tlogTileBlocking(_ tile: TlogTiles.Tile, reader: TreeReader) throws(AuditLogError) -> [UInt8]? {
        let height = 8 * (tile.level ?? 0)
        let nodes = reader.size >> UInt64(height)  // complete nodes of that height
        guard tile.index <= UInt64.max >> 9 else { return nil }  // far past any tree
        let first = tile.index * 256
        guard first + UInt64(tile.width) <= nodes else { return nil }
        // A partial tile is served only while it is the tree's edge at that level.
        if tile.width < 256 && first + 256 <= nodes { return nil }
        do throws(AuditLogError) {
            if tile.level == nil {
                return try self.entryBundle(first: first, count: tile.width)
            }
            var out: [UInt8] = []
            out.reserveCapacity(tile.width * TreeHash.byteCount)
            for i in 0..<UInt64(tile.width) {
                out += try reader.subtree(level: height, index: first + i).bytes
            }
            return out
        } catch {
            // Swept: C2SP tlog-tiles lets a log prune tiles below a range it removed.
            if error.code == .noLog { return nil }
            throw error
        }
    }

    /// Entries `first ..< first + count` as an entry bundle.
    private func entryBundle(first: UInt64, count: Int) throws(AuditLogError) -> [UInt8] {
        var out: [UInt8] = []
        var next = first + 1
        try TreeLeaves.forEachRecord(files, segments: snapshot.segments, seqs: (first + 1)...(first + UInt64(count))) { (seq, record) throws(AuditLogError) in
            guard seq.rawValue == next else {
                throw AuditLogError(.noLog, "the record of seq \(next) is not in the log", location: .init(seq: SequenceNumber(next)))
            }
            let length = 8 + record.count
            guard length <= Int(UInt16.max) else {
                throw AuditLogError(.limitExceeded, "the entry of seq \(seq) is \(length) bytes, more than an entry bundle's 65535", location: .init(seq: seq))
            }
            out.append(UInt8(length >> 8))
            out.append(UInt8(length & 0xFF))
            withUnsafeBytes(of: seq.rawValue.littleEndian) { out += $0 }
            out += record
            next += 1
        }
        guard next == first + UInt64(count) + 1 else {
            throw AuditLogError(.noLog, "the record of seq \(next) is not in the log", location: .init(seq: SequenceNumber(next)))
        }
        return out
    }
}
