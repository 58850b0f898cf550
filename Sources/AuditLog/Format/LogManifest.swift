/// The 64-byte `auditlog.meta` file that identifies a log directory (docs/FORMAT.md,
/// "Directory layout"). Written once, atomically, when the log is created.
struct LogManifest: Equatable, Sendable {
    static let magic: [UInt8] = Array("AUDITLOG".utf8)
    static let byteCount = 64
    static let formatVersion: UInt16 = 1
    static let fileName = "auditlog.meta"
    /// The two partition lengths a log may have.
    static let hourNanos: Int64 = 3_600_000_000_000
    static let dayNanos: Int64 = 86_400_000_000_000

    var logID: LogID
    var partitionLengthNanos: Int64
    var createdAtNanos: Int64

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.byteCount)
        w.write(bytes: Self.magic)
        w.write(Self.formatVersion)
        w.write(UInt16(Self.byteCount))
        w.write(UInt32(0))
        w.write(bytes: logID.bytes)
        w.write(partitionLengthNanos)
        w.write(createdAtNanos)
        w.write(UInt64(0))
        w.write(Checksum.xxh3(w.bytes))
        return w.bytes
    }

    static func decode(_ buffer: UnsafeRawBufferPointer) throws(FormatError) -> LogManifest {
        guard buffer.count == byteCount else {
            throw FormatError(.truncated, "manifest is \(buffer.count) bytes, expected \(byteCount)", offset: 0)
        }
        guard buffer.prefix(8).elementsEqual(magic) else {
            throw FormatError(.malformed, "manifest magic is not \"AUDITLOG\"", offset: 0)
        }
        var r = ByteReader(buffer, offset: 8)
        let version = try r.readUInt16()
        guard version == formatVersion else {
            throw FormatError(.unsupportedVersion, "log format version \(version); this build reads version \(formatVersion)", offset: 8)
        }
        let stored = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: byteCount - 8, as: UInt64.self))
        guard Checksum.xxh3(UnsafeRawBufferPointer(rebasing: buffer[0..<(byteCount - 8)])) == stored else {
            throw FormatError(.checksumMismatch, "manifest checksum mismatch", offset: byteCount - 8)
        }
        guard try r.readUInt16() == UInt16(byteCount) else {
            throw FormatError(.malformed, "manifest length is not \(byteCount)", offset: 10)
        }
        guard try r.readUInt32() == 0 else { throw FormatError(.malformed, "manifest flags are not zero", offset: 12) }
        guard let logID = LogID(bytes: Array(try r.readBytes(16))) else {
            throw FormatError(.malformed, "log id", offset: 16)
        }
        let partition = try r.readInt64()
        let created = try r.readInt64()
        guard partition == hourNanos || partition == dayNanos else {
            throw FormatError(.malformed, "partition length \(partition) ns is neither an hour nor a day", offset: 32)
        }
        guard try r.readUInt64() == 0 else { throw FormatError(.malformed, "manifest reserved bytes are not zero", offset: 48) }
        return LogManifest(logID: logID, partitionLengthNanos: partition, createdAtNanos: created)
    }
}
