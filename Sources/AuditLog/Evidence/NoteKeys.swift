import Crypto
import Foundation

/// Ed25519 keys in the text forms of Go's `golang.org/x/mod/sumdb/note` and C2SP signed-note:
///
/// - signer: `PRIVATE+KEY+<name>+<key id: 8 hex>+<base64(0x01 ‖ 32-byte seed)>`
/// - verifier: `<name>+<key id: 8 hex>+<base64(0x01 ‖ 32-byte public key)>`
///
/// The key id is the first 4 bytes, big-endian, of `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.
enum NoteKeys {
    /// The algorithm byte of Ed25519.
    static let ed25519: UInt8 = 0x01

    /// A name a key may have: not empty, no `+`, no white space or control characters.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }

    static func keyID(name: String, publicKey: [UInt8]) -> UInt32 {
        var hasher = SHA256()
        hasher.update(data: Array(name.utf8) + [0x0A, ed25519] + publicKey)
        return Array(hasher.finalize()).prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func hex8(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// A key that signs checkpoints.
package struct NoteSigner: Sendable {
    package let name: String
    package let keyID: UInt32
    private let key: Curve25519.Signing.PrivateKey

    /// A new random key named `name`.
    package init(generatingFor name: String) throws(AuditLogError) {
        guard NoteKeys.isValidName(name) else {
            throw AuditLogError(.invalidArgument, "key name '\(name)' must be non-empty, without '+', spaces or control characters")
        }
        self.init(name: name, key: Curve25519.Signing.PrivateKey())
    }

    private init(name: String, key: Curve25519.Signing.PrivateKey) {
        self.name = name
        self.key = key
        keyID = NoteKeys.keyID(name: name, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// The key of a 32-byte Ed25519 seed.
    package init(name: String, seed: [UInt8]) throws(AuditLogError) {
        guard NoteKeys.isValidName(name) else {
            throw AuditLogError(.invalidArgument, "key name '\(name)' must be non-empty, without '+', spaces or control characters")
        }
        let key: Curve25519.Signing.PrivateKey
        do { key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw AuditLogError(.invalidArgument, "signer key for '\(name)' is not an Ed25519 seed")
        }
        self.init(name: name, key: key)
    }

    /// Parses the signer key text (`PRIVATE+KEY+…`), checking its key id.
    package init(text: String) throws(AuditLogError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // The base64 key may hold '+' itself: split at the first four only (as Go does).
        let parts = trimmed.split(separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY" else {
            throw AuditLogError(.invalidArgument, "not a signer key: expected PRIVATE+KEY+<name>+<key id>+<key>")
        }
        let name = String(parts[2])
        guard NoteKeys.isValidName(name), let id = UInt32(parts[3], radix: 16), parts[3].count == 8,
            let data = Base64.decode(parts[4]), data.count == 33, data[0] == NoteKeys.ed25519
        else {
            throw AuditLogError(.invalidArgument, "malformed signer key for '\(name)': needs a name, an 8-hex key id and base64 of 0x01 and a 32-byte Ed25519 seed")
        }
        try self.init(name: name, seed: Array(data[1...]))
        guard keyID == id else {
            throw AuditLogError(.invalidArgument, "signer key for '\(name)' says key id \(parts[3]), its key gives \(NoteKeys.hex8(keyID))")
        }
    }

    /// `PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>`.
    package var text: String {
        "PRIVATE+KEY+\(name)+\(NoteKeys.hex8(keyID))+" + Base64.encode([NoteKeys.ed25519] + Array(key.rawRepresentation))
    }

    /// The matching verifier key.
    package var verifier: NoteVerifier {
        NoteVerifier(name: name, keyID: keyID, publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// The Ed25519 signature of `message`.
    package func sign(_ message: [UInt8]) throws(AuditLogError) -> [UInt8] {
        do { return Array(try key.signature(for: message)) } catch {
            throw AuditLogError(.io, "signing failed: \(error)")
        }
    }
}

/// A key that checks checkpoint signatures.
package struct NoteVerifier: Sendable, Hashable {
    package let name: String
    package let keyID: UInt32
    let publicKey: [UInt8]

    init(name: String, keyID: UInt32, publicKey: [UInt8]) {
        self.name = name
        self.keyID = keyID
        self.publicKey = publicKey
    }

    /// Parses verifier key text (`<name>+<id>+<base64(0x01 ‖ public key)>`), checking its id.
    package init(text: String) throws(AuditLogError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw AuditLogError(.invalidArgument, "not a verifier key: expected <name>+<key id>+<key>")
        }
        let name = String(parts[0])
        guard NoteKeys.isValidName(name), parts[1].count == 8, let id = UInt32(parts[1], radix: 16),
            let data = Base64.decode(parts[2]), data.count == 33, data[0] == NoteKeys.ed25519
        else {
            throw AuditLogError(.invalidArgument, "malformed verifier key for '\(name)': needs a name, an 8-hex key id and base64 of 0x01 and a 32-byte Ed25519 public key")
        }
        let publicKey = Array(data[1...])
        guard NoteKeys.keyID(name: name, publicKey: publicKey) == id else {
            throw AuditLogError(.invalidArgument, "verifier key for '\(name)' says key id \(parts[1]), its key gives \(NoteKeys.hex8(NoteKeys.keyID(name: name, publicKey: publicKey)))")
        }
        self.init(name: name, keyID: id, publicKey: publicKey)
    }

    /// `<name>+<id>+<base64(0x01 ‖ public key)>`.
    package var text: String { "\(name)+\(NoteKeys.hex8(keyID))+" + Base64.encode([NoteKeys.ed25519] + publicKey) }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}
