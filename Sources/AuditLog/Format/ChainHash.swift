import Crypto

/// A 32-byte SHA-256 chain value: `h(n) = SHA-256(h(n-1) ‖ leaf(n))`, with `h(0)` derived from
/// the log id (docs/FORMAT.md, "Hash chain").
public struct ChainHash: Hashable, Sendable, CustomStringConvertible {
    /// Byte size of a chain value.
    package static let byteCount = 32
    /// The domain-separation prefix of the genesis value.
    static let genesisPrefix = Array("auditlog/v1/genesis".utf8)

    // Four words keep the value inline (no heap allocation per record).
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The all-zero value (never a real chain value).
    package static let zero = ChainHash(w0: 0, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Reads 32 bytes; `bytes` must hold exactly 32.
    init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count == Self.byteCount else { return nil }
        w0 = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// Parses 64 lowercase or uppercase hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 64, let bytes = Hex.decode(hex) else { return nil }
        guard let value = bytes.withUnsafeBytes({ ChainHash(bytes: $0) }) else { return nil }
        self = value
    }

    /// The 32 bytes in order.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        withUnsafeBytes(of: self) { out.append(contentsOf: $0) }
        return out
    }

    /// Lowercase hex.
    public var hex: String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    func write(to writer: inout ByteWriter) {
        withUnsafeBytes(of: self) { writer.write(bytes: $0) }
    }

    /// `h(0)`: SHA-256 of `"auditlog/v1/genesis" ‖ logID`.
    static func genesis(logID: LogID) -> ChainHash {
        var hasher = SHA256()
        hasher.update(data: genesisPrefix)
        hasher.update(data: logID.bytes)
        return ChainHash(digest: hasher.finalize())
    }

    /// The next chain value: `SHA-256(self ‖ leaf)` with `leaf = seq:u64 ‖ record`.
    func chained(seq: SequenceNumber, record: UnsafeRawBufferPointer) -> ChainHash {
        let w = withUnsafeBytes(of: self) { SHA256Words.hash(prefix: $0, word: seq.rawValue, body: record) }
        return ChainHash(w0: w.0, w1: w.1, w2: w.2, w3: w.3)
    }

    init(digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { raw in
            ChainHash(
                w0: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                w1: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                w2: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                w3: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        }
    }
}

/// The random 16-byte identity of a log, fixed at creation.
public struct LogID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes.
    package let bytes: [UInt8]

    init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    static func random() -> LogID {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        return LogID(uncheckedBytes: bytes)
    }

    private init(uncheckedBytes: [UInt8]) { self.bytes = uncheckedBytes }

    /// Lowercase hex.
    public var description: String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}
