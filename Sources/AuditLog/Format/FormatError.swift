/// A precise decoding failure inside the pure codecs: what was wrong and at which byte offset
/// of the buffer being decoded. The storage layer adds the file and seq and wraps it in
/// ``AuditLogError``.
struct FormatError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        /// Fewer bytes than the structure needs.
        case truncated
        /// Bytes present but not a valid encoding (bad magic, bad varint, bad UTF-8, bad tag).
        case malformed
        /// A checksum did not match.
        case checksumMismatch
        /// A format version this build does not read.
        case unsupportedVersion
        /// A size limit was exceeded.
        case limitExceeded
    }

    var kind: Kind
    var message: String
    /// Byte offset inside the decoded buffer (or file, once the storage layer rebases it).
    var offset: Int

    init(_ kind: Kind, _ message: String, offset: Int) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    var description: String { "\(message) (at byte \(offset))" }
}
