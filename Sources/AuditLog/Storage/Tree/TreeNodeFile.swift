/// A file of tree node hashes (docs/FORMAT.md, "Merkle tree"): `tree/level-<L>.hashes` holds,
/// in order, the hash of every complete subtree of `256^L` entries — node `i` covers entries
/// `[i · 256^L, (i + 1) · 256^L)` — after a 32-byte header binding it to its log and level.
/// Level 0 (leaf hashes) is never stored whole: leaf hashes are recomputed from records.
struct TreeNodeFile {
    static let headerBytes = 32
    static let magic: [UInt8] = Array("ALTRNODE".utf8)
    static let version: UInt16 = 1

    static func header(level: Int, logID: LogID) -> [UInt8] {
        var w = ByteWriter()
        w.write(bytes: magic)
        w.write(version)
        w.write(UInt8(level))
        w.write(UInt8(0))
        w.write(UInt32(0))
        w.write(bytes: logID.bytes)
        return w.bytes
    }

    /// Checks a header; returns nothing or throws naming what is wrong.
    static func check(header bytes: [UInt8], level: Int, logID: LogID, file: String) throws(AuditLogError) {
        guard bytes.count == headerBytes, Array(bytes[0..<8]) == magic else {
            throw AuditLogError(.corruption, "not a tree node file (bad magic)", location: .init(file: file, offset: 0))
        }
        let version = UInt16(bytes[8]) | UInt16(bytes[9]) << 8
        guard version == Self.version else {
            throw AuditLogError(.unsupportedVersion, "tree node file version \(version); this build reads version \(Self.version)", location: .init(file: file, offset: 8))
        }
        guard Int(bytes[10]) == level, bytes[11] == 0, bytes[12..<16].allSatisfy({ $0 == 0 }) else {
            throw AuditLogError(.corruption, "tree node file header names level \(bytes[10]), expected \(level), or sets reserved bytes", location: .init(file: file, offset: 10))
        }
        guard Array(bytes[16..<32]) == logID.bytes else {
            throw AuditLogError(.corruption, "tree node file belongs to another log (its log id differs)", location: .init(file: file, offset: 16))
        }
    }

    /// The hashes in a file's bytes after its header (a trailing partial hash is ignored:
    /// a torn append, recomputed from the level below).
    static func hashes(in bytes: [UInt8]) -> [TreeHash] {
        guard bytes.count > headerBytes else { return [] }
        let n = (bytes.count - headerBytes) / TreeHash.byteCount
        return bytes.withUnsafeBytes { raw in
            (0..<n).compactMap { i in
                let start = headerBytes + i * TreeHash.byteCount
                return TreeHash(bytes: UnsafeRawBufferPointer(rebasing: raw[start..<(start + TreeHash.byteCount)]))
            }
        }
    }

    static func offset(ofNode index: UInt64) -> Int64 { Int64(headerBytes) + Int64(index) * Int64(TreeHash.byteCount) }
}
