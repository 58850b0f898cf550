import CAuditLogSHA256
import Crypto

/// SHA-256 of a short prefix and then a body, as the digest's four 64-bit words (in memory
/// order): the hash the chain, the tree's leaves and its nodes each take once a record.
///
/// swift-crypto's `SHA256` allocates a context for every hash and a copy of it to finalize;
/// at three hashes a record that was about a sixth of a bulk append's writer thread. On Linux
/// swift-crypto builds BoringSSL into the program, and `CAuditLogSHA256` calls its functions
/// directly: for a message of at most 503 bytes (a record's chain link or tree leaf) one call of
/// its compression function over the message padded on the stack, else `SHA256_Init`,
/// `_Update` and `_Final` on a context on the stack. Where they are not linked in (Apple
/// platforms) this goes through `SHA256`. Either way it is swift-crypto's SHA-256, and a test
/// checks the paths against each other on both sides of 503 bytes.
enum SHA256Words {
    typealias Words = (UInt64, UInt64, UInt64, UInt64)

    /// Whether BoringSSL's functions are linked in, and the compression function a message of
    /// one call goes through: BoringSSL's SHA-NI one where the CPU has it (its own dispatch looks
    /// the CPU's features up at every call, ~2 % of a verify), else its
    /// `SHA256_TransformBlocks`. Looked up once, together (each `static let` is a check a hash).
    /// Private: tests pick BoringSSL's paths by ``BoringSSLPath``.
    private static let linked = (direct: auditlog_sha256_linked() != 0, blocks: auditlog_sha256_blocks())

    /// Whether BoringSSL's functions are linked in (else the hash goes through swift-crypto).
    static var direct: Bool { linked.direct }

    /// Whether the compression function is BoringSSL's SHA-NI one.
    static var usesSHAExtensions: Bool { auditlog_sha256_blocks_use_sha_extensions(linked.blocks) != 0 }

    /// BoringSSL's ways to a digest, for tests to compare: the compression function chosen, its
    /// dispatching `SHA256_TransformBlocks`, and its context functions.
    enum BoringSSLPath: CaseIterable { case chosen, dispatching, contextFunctions }

    /// SHA-256(`prefix` ‖ `body`).
    static func hash(prefix: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> Words {
        let linked = linked
        return linked.direct
            ? boringSSL(prefix: prefix, body: body, blocks: linked.blocks) : swiftCrypto(prefix: prefix, body: body)
    }

    /// SHA-256(`prefix` ‖ `word` little-endian ‖ `body`), with a prefix of at most 32 bytes.
    static func hash(prefix: UnsafeRawBufferPointer, word: UInt64, body: UnsafeRawBufferPointer) -> Words {
        withUnsafeTemporaryAllocation(byteCount: 40, alignment: 8) { scratch in
            let n = min(prefix.count, 32)
            UnsafeMutableRawBufferPointer(rebasing: scratch[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: prefix[0..<n]))
            scratch.storeBytes(of: word.littleEndian, toByteOffset: n, as: UInt64.self)
            return hash(prefix: UnsafeRawBufferPointer(rebasing: scratch[0..<(n + 8)]), body: body)
        }
    }

    /// Through BoringSSL by `path` (only where ``direct``).
    static func boringSSL(prefix: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, path: BoringSSLPath) -> Words {
        switch path {
        case .chosen: boringSSL(prefix: prefix, body: body, blocks: linked.blocks)
        case .dispatching: boringSSL(prefix: prefix, body: body, blocks: auditlog_sha256_dispatching_blocks())
        case .contextFunctions: boringSSL(prefix: prefix, body: body, blocks: nil)
        }
    }

    /// Through BoringSSL: with `blocks` for a message of at most 503 bytes (nil: through its
    /// context functions, as a longer one).
    private static func boringSSL(prefix: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, blocks: auditlog_sha256_blocks_fn?) -> Words {
        var out: Words = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &out) { digest in
            guard let base = digest.baseAddress else { return }
            auditlog_sha256(blocks, prefix.baseAddress, prefix.count, body.baseAddress, body.count, base.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    static func swiftCrypto(prefix: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> Words {
        var hasher = SHA256()
        hasher.update(bufferPointer: prefix)
        hasher.update(bufferPointer: body)
        return hasher.finalize().withUnsafeBytes { raw in
            (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }
}
