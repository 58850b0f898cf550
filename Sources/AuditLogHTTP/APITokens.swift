import AuditLog
import Crypto
import Foundation

/// What a bearer token may do. `write` implies `read`.
public enum APIScope: String, Sendable, Comparable, CaseIterable {
    /// Queries, export, usage, tail, verify, head.
    case read
    /// Appending events (and everything `read` allows).
    case write

    public static func < (a: APIScope, b: APIScope) -> Bool { a == .read && b == .write }
}

/// The bearer tokens the API accepts, kept only as SHA-256 digests.
///
/// A token file holds one token a line as `read <hex SHA-256>` or `write <hex SHA-256>`;
/// blank lines and `#` comments are ignored. Create an entry with
/// `printf %s "$TOKEN" | sha256sum`.
public struct APITokens: Sendable {
    private var entries: [(digest: [UInt8], scope: APIScope)] = []

    /// No tokens: every request is refused.
    public init() {}

    /// Number of tokens accepted.
    public var count: Int { entries.count }

    /// Parses token-file text; errors name the file and line.
    public init(parsing text: String, file: String) throws(AuditLogError) {
        // Any line end: "\r\n" is one Character in Swift, which splitting on "\n" would miss.
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty { continue }
            let location = AuditLogError.Location(file: file, line: i + 1)
            guard words.count == 2 else {
                throw AuditLogError(.invalidArgument, "expected '<read|write> <hex SHA-256 of the token>', got \(words.count) word(s)", location: location)
            }
            guard let scope = APIScope(rawValue: words[0].lowercased()) else {
                throw AuditLogError(.invalidArgument, "scope '\(words[0])' is not read or write", location: location)
            }
            guard let digest = Hex.decode(String(words[1])), digest.count == 32 else {
                throw AuditLogError(.invalidArgument, "'\(words[1].prefix(70))' is not a SHA-256 digest in hex (64 hex digits); the file holds digests, never tokens", location: location)
            }
            entries.append((digest, scope))
        }
    }

    /// Reads a token file.
    public static func load(file path: String) throws(AuditLogError) -> APITokens {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AuditLogError(.invalidArgument, "cannot read the token file", location: .init(file: path))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AuditLogError(.invalidArgument, "the token file is not UTF-8 text", location: .init(file: path))
        }
        let tokens = try APITokens(parsing: text, file: path)
        guard tokens.count > 0 else {
            throw AuditLogError(.invalidArgument, "the token file lists no tokens", location: .init(file: path))
        }
        return tokens
    }

    /// Adds a token given in clear (e.g. from `AUDITLOG_API_TOKEN`); only its digest is kept.
    public mutating func add(token: String, scope: APIScope) {
        entries.append((Self.digest(token), scope))
    }

    /// The widest scope of `token`, or nil when it is not one of these tokens. Takes the same
    /// time whichever entry matches, or none: every digest is compared in full.
    public func scope(of token: String) -> APIScope? {
        let presented = Self.digest(token)
        var best: APIScope?
        for entry in entries {
            var difference: UInt8 = 0
            for (a, b) in zip(entry.digest, presented) { difference |= a ^ b }
            if difference == 0, best.map({ $0 < entry.scope }) ?? true { best = entry.scope }
        }
        return best
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}
