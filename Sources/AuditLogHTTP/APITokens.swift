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

/// One accepted token as the API knows it: its scope, what it may see and what it is called.
public struct APIToken: Sendable, Hashable {
    /// What it may do.
    public var scope: APIScope
    /// The teams whose events it may see and write (nil: every event).
    public var teams: Set<String>?
    /// Its name (`name=grafana` in the token file), recorded by `audit.read`.
    public var name: String?
    /// The first 12 hex digits of its SHA-256: how records name a token without a name.
    public var digestPrefix: String

    /// What records name the token by: its name, else `sha256:<first 12 hex digits>` (never
    /// the token).
    public var label: String { name ?? "sha256:\(digestPrefix)" }

    /// Whether it sees every event (no team scope).
    public var seesEverything: Bool { teams == nil }
}

/// The bearer tokens the API accepts, kept only as SHA-256 digests.
///
/// A token file holds one token a line: `<read|write> <hex SHA-256>`, optionally followed by
/// `team=<team>[,<team>…]` (the token sees and writes only those teams' events, on every route)
/// and `name=<name>` (what `audit.read` records call it). Blank lines and `#` comments are
/// ignored. Create an entry with `printf %s "$TOKEN" | sha256sum`.
public struct APITokens: Sendable {
    private var entries: [(digest: [UInt8], token: APIToken)] = []

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
            guard words.count >= 2 else {
                throw AuditLogError(.invalidArgument, "expected '<read|write> <hex SHA-256 of the token> [team=…] [name=…]', got \(words.count) word(s)", location: location)
            }
            guard let scope = APIScope(rawValue: words[0].lowercased()) else {
                throw AuditLogError(.invalidArgument, "scope '\(words[0])' is not read or write", location: location)
            }
            guard let digest = Hex.decode(String(words[1])), digest.count == 32 else {
                throw AuditLogError(.invalidArgument, "'\(words[1].prefix(70))' is not a SHA-256 digest in hex (64 hex digits); the file holds digests, never tokens", location: location)
            }
            var token = APIToken(scope: scope, teams: nil, name: nil, digestPrefix: Hex.encode(digest).prefix(12).lowercased())
            for word in words.dropFirst(2) {
                let parts = word.split(separator: "=", maxSplits: 1)
                let value = parts.count == 2 ? String(parts[1]) : ""
                switch parts.first ?? "" {
                case "team" where !value.isEmpty:
                    let teams = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    guard !teams.contains(where: \.isEmpty) else { throw AuditLogError(.invalidArgument, "'\(word)' names an empty team", location: location) }
                    guard token.teams == nil else { throw AuditLogError(.invalidArgument, "team= is given twice; list the teams once, comma separated", location: location) }
                    token.teams = Set(teams)
                case "name" where !value.isEmpty:
                    guard token.name == nil else { throw AuditLogError(.invalidArgument, "name= is given twice", location: location) }
                    guard value.utf8.count <= 100, value.allSatisfy({ !$0.isWhitespace && !$0.isNewline }) else {
                        throw AuditLogError(.invalidArgument, "a token name is at most 100 characters without white space", location: location)
                    }
                    token.name = value
                default:
                    throw AuditLogError(.invalidArgument, "'\(word.prefix(60))' is not team=<team>[,<team>…] or name=<name>", location: location)
                }
            }
            entries.append((digest, token))
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
    public mutating func add(token: String, scope: APIScope, teams: Set<String>? = nil, name: String? = nil) {
        let digest = Self.digest(token)
        entries.append((digest, APIToken(scope: scope, teams: teams, name: name, digestPrefix: String(Hex.encode(digest).prefix(12)).lowercased())))
    }

    /// The widest scope of `token`, or nil when it is not one of these tokens.
    public func scope(of token: String) -> APIScope? { self.token(token)?.scope }

    /// The entry of `token` (the widest, when it is listed more than once), or nil when it is
    /// not one of these tokens. Takes the same time whichever entry matches, or none: every
    /// digest is compared in full.
    public func token(_ presented: String) -> APIToken? {
        let digest = Self.digest(presented)
        var best: APIToken?
        for entry in entries {
            var difference: UInt8 = 0
            for (a, b) in zip(entry.digest, digest) { difference |= a ^ b }
            if difference == 0, best.map({ $0.scope < entry.token.scope }) ?? true { best = entry.token }
        }
        return best
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}
