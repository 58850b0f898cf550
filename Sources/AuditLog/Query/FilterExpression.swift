/// One condition as users write it after `--filter` or in an HTTP `filter=` parameter:
/// `team=payments`, `event_type!=decision`, `user=alice*` (a prefix), `cost>0.5`,
/// `extra.region=eu`, `policy=redact-pii`, `policy_verdict=block`.
///
/// Parsing checks the field name (an unknown one is an error that lists the fields and
/// suggests the nearest), verdicts and booleans (matched case-insensitively; anything outside
/// their values is an error naming them) and numbers (for the numeric fields, and for `<`, `>`,
/// `<=`, `>=`, which only numeric fields take). Other strings match exactly.
public struct FilterExpression: Hashable, Sendable, CustomStringConvertible {
    /// How the field is compared with the value.
    public enum Operator: String, Hashable, Sendable, CaseIterable {
        /// Equal (or, with a value ending in `*`, starting with it). Repeated on one field:
        /// any of the values.
        case equal = "="
        /// Not equal (not starting with, for `prefix*`); events without the field pass.
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    /// The field: a top-level name (`team`, `cache_hit`, `request_id`…), `extra.<name>` for a
    /// custom top-level field, `policy` (any policy's name) or `policy_verdict` (any policy's
    /// verdict).
    public let field: String
    public let op: Operator
    /// The value, normalized: verdicts and booleans in lower case, numbers in their canonical
    /// form; without the `*` of a prefix.
    public let value: String
    /// Whether the value is a prefix (`user=alice*`).
    public let isPrefix: Bool

    /// Parses `field<op>value`; the error (``AuditLogError/Code/invalidArgument``) says what is
    /// wrong and what would be right.
    public init(parsing text: String) throws(AuditLogError) {
        let bytes = Array(text.utf8)
        guard let opStart = bytes.firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "!") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else {
            throw AuditLogError(.invalidArgument, "filter '\(text)' has no operator: write field=value (or !=, <, >, <=, >=), e.g. team=payments")
        }
        let name = String(decoding: bytes[..<opStart], as: UTF8.self)
        var opEnd = opStart + 1
        if opEnd < bytes.count, bytes[opEnd] == UInt8(ascii: "="), bytes[opStart] != UInt8(ascii: "=") { opEnd += 1 }
        let opText = String(decoding: bytes[opStart..<opEnd], as: UTF8.self)
        guard let op = Operator(rawValue: opText) else {
            throw AuditLogError(.invalidArgument, "filter '\(text)': '\(opText)' is not an operator; use =, !=, <, >, <= or >=")
        }
        var value = String(decoding: bytes[opEnd...], as: UTF8.self)
        guard !name.isEmpty else {
            throw AuditLogError(.invalidArgument, "filter '\(text)' has no field name before '\(opText)', e.g. team=payments")
        }
        let field = try FilterFields.resolve(name)
        var isPrefix = false
        if value.hasSuffix("*"), op == .equal || op == .notEqual {
            isPrefix = true
            value.removeLast()
        }
        switch FilterFields.kind(of: field) {
        case .verdict:
            let lowered = value.lowercased()
            guard !isPrefix, Verdict(rawValue: lowered) != nil else {
                throw AuditLogError(.invalidArgument, "filter '\(text)': \(field) is one of \(Verdict.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            value = lowered
        case .boolean:
            let lowered = value.lowercased()
            guard !isPrefix, lowered == "true" || lowered == "false" else {
                throw AuditLogError(.invalidArgument, "filter '\(text)': \(field) is true or false")
            }
            value = lowered
        case .number(let scale):
            guard !isPrefix, case .success(let n) = FixedPoint.parse(value, scale: scale) else {
                throw AuditLogError(.invalidArgument, "filter '\(text)': \(field) takes a number ≥ 0 with at most \(scale) decimals, e.g. \(field)\(opText)\(scale == 0 ? "1000" : "0.5")")
            }
            value = FixedPoint.format(n, scale: scale)
        case .policyVerdict:
            value = value.lowercased()
        case .text:
            break
        }
        if op != .equal && op != .notEqual {
            guard case .number = FilterFields.kind(of: field) else {
                throw AuditLogError(.invalidArgument, "filter '\(text)': '\(opText)' compares numbers, and \(field) is not a number (numeric fields: \(FilterFields.numeric.joined(separator: ", ")))")
            }
        }
        self.field = field
        self.op = op
        self.value = value
        self.isPrefix = isPrefix
    }

    public var description: String { field + op.rawValue + value + (isPrefix ? "*" : "") }

    /// `event_type!=decision`: the administrative trail (`--admin`, `admin=true`).
    public static let administrative = FilterExpression(field: "event_type", op: .notEqual, value: "decision")

    private init(field: String, op: Operator, value: String) {
        self.field = field
        self.op = op
        self.value = value
        isPrefix = false
    }
}

/// The names a filter takes, their kinds, and the nearest name to a mistyped one.
enum FilterFields {
    enum Kind: Equatable {
        case text, verdict, boolean, policyVerdict
        /// A count (scale 0) or a fixed-point number (cost: 9, latency: 3).
        case number(scale: Int)
    }

    /// Every name a filter takes, besides `extra.<name>`.
    static let names: [String] = ["id", "event_type"] + EventField.allCases.filter { $0 != .extra }.map(\.jsonName) + ["policy", "policy_verdict"]

    static let numeric: [String] = EventField.allCases.filter {
        switch $0.kind {
        case .count, .fixed: true
        default: false
        }
    }.map(\.jsonName)

    /// What users from other tools write, and the field they mean.
    private static let aliases: [String: String] = [
        "decision": "verdict", "action": "verdict", "outcome": "verdict", "result": "verdict", "status": "verdict",
        "type": "event_type", "event": "event_type", "kind": "event_type",
        "reason": "reason_code", "code": "reason_code",
        "actor": "user", "email": "user", "user_id": "user", "username": "user", "principal": "user",
        "team_id": "team", "group": "team", "model_id": "model", "vendor": "provider",
        "key": "api_key", "apikey": "api_key", "key_id": "api_key",
        "latency": "latency_ms", "duration": "latency_ms", "price": "cost", "spend": "cost",
        "cache": "cache_hit", "cached": "cache_hit", "tokens": "tokens_in",
        "request": "request_id", "session": "session_id", "node": "gateway", "client_ip": "ip",
        "agent": "user_agent", "config": "config_version", "version": "config_version",
        "policy_name": "policy", "rule": "policy",
    ]

    /// The field `name` names; an error listing the fields (and the nearest) when it is none.
    static func resolve(_ name: String) throws(AuditLogError) -> String {
        if names.contains(name) { return name }
        if name.hasPrefix("extra.") {
            let custom = String(name.dropFirst("extra.".count))
            guard !custom.isEmpty else { throw AuditLogError(.invalidArgument, "filter field 'extra.' names no custom field; write extra.<name>, e.g. extra.region=eu") }
            return name
        }
        if name == "timestamp" || name == "time" {
            throw AuditLogError(.invalidArgument, "filter field '\(name)': select times with --since and --until (HTTP: since= and until=)")
        }
        if name == "seq" {
            throw AuditLogError(.invalidArgument, "filter field 'seq' is the log's own; look an event up with `auditlog show` or page with a cursor")
        }
        let suggestion = nearest(name).map { " Did you mean '\($0)'?" } ?? " A custom top-level field is extra.\(name)."
        throw AuditLogError(.invalidArgument, "unknown filter field '\(name)'.\(suggestion) Fields: \(names.joined(separator: ", ")), extra.<name>")
    }

    static func kind(of field: String) -> Kind {
        switch field {
        case "verdict": return .verdict
        case "cache_hit": return .boolean
        case "policy_verdict": return .policyVerdict
        default:
            guard let f = EventField(jsonName: field) else { return .text }
            switch f.kind {
            case .count: return .number(scale: 0)
            case .fixed(let scale): return .number(scale: scale)
            default: return .text
            }
        }
    }

    /// The known name nearest to `name`: an alias, or one within a few edits.
    static func nearest(_ name: String) -> String? {
        let lowered = name.lowercased()
        if names.contains(lowered) { return lowered }
        if let alias = aliases[lowered] { return alias }
        let candidates = names.map { ($0, editDistance(lowered, $0)) }.filter { $0.1 <= max(2, $0.0.count / 3) }
        return candidates.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance over UTF-8 bytes.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
