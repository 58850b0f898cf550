/// What of the verifiable log goes to the archive beside the segments (docs/ARCHIVE.md): the
/// newest signed checkpoint, as `checkpoints/<tree size>`, and every C2SP tlog-tiles hash tile it
/// needs (`tile/<L>/<N>` and the partial tiles at its edge, `…/.p/<W>`), so that the archive
/// alone lets anyone check the checkpoint against the archived records. Entry bundles are not
/// uploaded: the archived segments hold the entries.
struct ArchivedTree: Sendable {
    /// The checkpoint's tree size.
    var size: UInt64
    /// Key (under the log's prefix) and bytes of each object, tiles first, the checkpoint last.
    var objects: [(key: String, bytes: [UInt8])]
}

extension AuditLog {
    /// The objects for the newest signed checkpoint, leaving out tiles complete at the tree
    /// size `archived` (an earlier checkpoint's, already archived); nil when there is no newer
    /// checkpoint.
    func treeObjects(after archived: UInt64) throws(AuditLogError) -> ArchivedTree? {
        guard let latest = try latestStoredCheckpoint(), latest.checkpoint.size > archived else { return nil }
        let size = latest.checkpoint.size
        let s = snapshot
        guard size <= s.nextSeq.rawValue - 1 else { return nil }
        let reader = try TreeReader(files, logID: logID, segments: s.segments, size: size, kept: try keptNodes())
        var objects: [(key: String, bytes: [UInt8])] = []
        for level in 0..<8 {
            let nodes = size >> UInt64(8 * level)
            let before = archived >> UInt64(8 * level)
            guard nodes > 0 else { break }
            guard nodes > before else { continue }
            let full = nodes / 256
            // From the tile that was partial (or not begun) at `archived`, through the edge.
            for index in (before / 256)..<full {
                let tile = TlogTiles.Tile(level: level, index: index, width: 256)
                if let bytes = try tlogTileBlocking(tile, reader: reader) { objects.append((TlogTiles.path(tile), bytes)) }
            }
            if nodes % 256 > 0 {
                let tile = TlogTiles.Tile(level: level, index: full, width: Int(nodes % 256))
                if let bytes = try tlogTileBlocking(tile, reader: reader) { objects.append((TlogTiles.path(tile), bytes)) }
            }
        }
        objects.append(("checkpoints/\(size)", Array(latest.note.encoded.utf8)))
        return ArchivedTree(size: size, objects: objects)
    }
}
