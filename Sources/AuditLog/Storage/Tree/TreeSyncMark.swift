/// `tree/synced` (docs/FORMAT.md, "Merkle tree"): a tree size `S` such that every node complete
/// at `S` was durable in the level files when the mark was written. A writer opening the log
/// trusts the nodes under `S` (and under its sealed segments) and recomputes the rest from the
/// records, which after a clean close or a seal is nothing. Without a mark (a log from before
/// it, or a mark a power cut lost) it trusts only the sealed segments' nodes: slower, never
/// wrong.
///
/// 40 bytes: `ALTRSYNC`, the size (`u64` little-endian), the log id (16 bytes), XXH3-64 of the
/// 32 bytes before it. Written atomically, after the level files were synced.
enum TreeSyncMark {
    static let name = "synced"
    static let magic: [UInt8] = Array("ALTRSYNC".utf8)
    static let byteCount = 40

    static func encode(size: UInt64, logID: LogID) -> [UInt8] {
        var w = ByteWriter()
        w.write(bytes: magic)
        w.write(size)
        w.write(bytes: logID.bytes)
        w.write(Checksum.xxh3(w.bytes))
        return w.bytes
    }

    /// The size the mark says, 0 when there is no readable mark of this log (missing, torn,
    /// damaged, another log's: the writer then trusts less, never more).
    static func read(_ directory: LogDirectory, logID: LogID) -> UInt64 {
        guard let file = try? directory.openTree(name) else { return 0 }
        defer { file.close() }
        guard let bytes = try? file.readAll(), bytes.count == byteCount, Array(bytes[0..<8]) == magic, Array(bytes[16..<32]) == logID.bytes else { return 0 }
        return bytes.withUnsafeBytes { raw -> UInt64 in
            var reader = ByteReader(raw, offset: 8)
            guard let size = try? reader.readUInt64() else { return 0 }
            reader = ByteReader(raw, offset: 32)
            guard let checksum = try? reader.readUInt64(), checksum == Checksum.xxh3(UnsafeRawBufferPointer(rebasing: raw[0..<32])) else { return 0 }
            return size
        }
    }

    static func write(_ directory: LogDirectory, size: UInt64, logID: LogID) throws(AuditLogError) {
        try directory.writeTreeFileAtomically(encode(size: size, logID: logID), name: name)
    }
}
