import Foundation

/// A C2SP signed note (Go's `sumdb/note`): the text, ending in a newline, then a blank line,
/// then one line per signature — `— <key name> <base64(4-byte key id ‖ signature)>` (an em
/// dash U+2014 and a space first). The signature is over the text bytes.
package struct SignedNote: Sendable, Hashable {
    /// The signed text, ending in `\n`.
    package var text: String
    package struct Signature: Sendable, Hashable {
        package var name: String
        package var keyID: UInt32
        package var bytes: [UInt8]
    }
    package var signatures: [Signature]

    static let dash = "\u{2014} "

    /// Signs `text` (which must end in a newline and hold no blank line).
    package init(signing text: String, with signer: NoteSigner) throws(AuditLogError) {
        guard text.hasSuffix("\n"), !text.contains("\n\n"), !text.hasPrefix("\n") else {
            throw AuditLogError(.invalidArgument, "a note's text ends in a newline and holds no blank line")
        }
        self.text = text
        signatures = [Signature(name: signer.name, keyID: signer.keyID, bytes: try signer.sign(Array(text.utf8)))]
    }

    /// Parses a signed note.
    package init(parsing note: String) throws(AuditLogError) {
        func bad(_ why: String) -> AuditLogError { AuditLogError(.invalidArgument, "not a signed note: \(why)") }
        guard let split = note.range(of: "\n\n", options: .backwards) else { throw bad("no blank line before the signatures") }
        text = String(note[note.startIndex..<note.index(after: split.lowerBound)])
        guard !text.contains("\n\n") else { throw bad("a blank line inside the text") }
        let block = note[split.upperBound...]
        guard block.hasSuffix("\n") else { throw bad("the last signature line does not end in a newline") }
        signatures = []
        for line in block.dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix(Self.dash) else { throw bad("a signature line must start with '— '") }
            let fields = line.dropFirst(Self.dash.count).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, NoteKeys.isValidName(String(fields[0])), let data = Base64.decode(fields[1]), data.count > 4 else {
                throw bad("malformed signature line '\(line.prefix(80))'")
            }
            let id = data.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            signatures.append(Signature(name: String(fields[0]), keyID: id, bytes: Array(data.dropFirst(4))))
        }
        guard !signatures.isEmpty else { throw bad("no signature") }
    }

    /// The whole note as text.
    package var encoded: String {
        text + "\n"
            + signatures.map { sig in
                Self.dash + sig.name + " " + Base64.encode(withUnsafeBytes(of: sig.keyID.bigEndian) { Array($0) } + sig.bytes) + "\n"
            }.joined()
    }

    /// Whether a signature by `verifier` (its name and key id) is valid.
    package func isSigned(by verifier: NoteVerifier) -> Bool {
        signatures.contains { sig in
            sig.name == verifier.name && sig.keyID == verifier.keyID && verifier.verify(sig.bytes, of: Array(text.utf8))
        }
    }
}

/// A C2SP tlog-checkpoint: the origin, the tree size and the root hash, one a line (extension
/// lines after them are kept but not interpreted).
package struct Checkpoint: Sendable, Hashable {
    package var origin: String
    package var size: UInt64
    var root: TreeHash
    package var extensions: [String] = []

    init(origin: String, size: UInt64, root: TreeHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note text: `origin\nsize\nbase64(root)\n`.
    package var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }

    /// Parses a checkpoint's text.
    package init(text: String) throws(AuditLogError) {
        func bad(_ why: String) -> AuditLogError { AuditLogError(.invalidArgument, "not a checkpoint: \(why)") }
        guard text.hasSuffix("\n") else { throw bad("the text does not end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3 else { throw bad("fewer than three lines (origin, size, root)") }
        guard !lines[0].isEmpty else { throw bad("empty origin") }
        guard let size = UInt64(lines[1]), String(size) == lines[1] else { throw bad("size '\(lines[1].prefix(40))' is not a decimal number") }
        guard let root = TreeHash(base64: String(lines[2])) else { throw bad("root is not base64 of 32 bytes") }
        origin = String(lines[0])
        self.size = size
        self.root = root
        extensions = lines.dropFirst(3).map(String.init)
    }

    /// The root, base64.
    package var rootBase64: String { root.base64 }
}
