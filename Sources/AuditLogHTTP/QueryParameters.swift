import AuditLog
import Hummingbird

/// The URL query of a request, read strictly: every parameter must be one the endpoint knows,
/// and each bad value is a 400 `invalid_parameter` naming the parameter.
struct QueryParameters {
    private let parameters: [(key: String, value: String)]

    /// Parameters that select events: a time window, equality filters (repeat a parameter
    /// for any of several values), `filter=` conditions in the CLI's grammar (``FilterExpression``,
    /// repeatable) and `q=` (a search).
    static let filterNames: Set<String> = [
        "since", "until", "verdict", "user", "model", "team", "provider", "event_type", "api_key",
        "reason_code", "source", "gateway", "request_id", "session_id", "config_version", "cache_hit",
        "filter", "q", "admin",
    ]

    init(_ request: Request, allowed: Set<String>) throws(APIError) {
        // An empty value (`since=`, as HTML forms send) means the parameter is not given.
        parameters = request.uri.queryParameters.filter { !$0.value.isEmpty }.map { (String($0.key), String($0.value)) }
        for (key, _) in parameters where !allowed.contains(key) {
            throw .invalidParameter(key, "unknown query parameter '\(key)'; this endpoint takes \(allowed.sorted().joined(separator: ", "))")
        }
    }

    func all(_ name: String) -> [String] { parameters.filter { $0.key == name }.map(\.value) }

    /// The single value of `name`; a repeated parameter is an error.
    func one(_ name: String) throws(APIError) -> String? {
        let values = all(name)
        guard values.count <= 1 else { throw .invalidParameter(name, "'\(name)' is given \(values.count) times; it takes one value") }
        return values.first
    }

    /// A boolean parameter (`true` or `false`), false when absent.
    func flag(_ name: String) throws(APIError) -> Bool {
        guard let text = try one(name) else { return false }
        guard let value = Bool(text) else { throw APIError.invalidParameter(name, "'\(name)=\(text.prefix(100))' is not true or false") }
        return value
    }

    func time(_ name: String, now: Timestamp) throws(APIError) -> Timestamp? {
        guard let text = try one(name) else { return nil }
        guard let t = TimeExpression.parse(text, now: now) else {
            throw .invalidParameter(name, "'\(name)=\(text)' is not \(TimeExpression.acceptedForms)")
        }
        return t
    }

    func window(now: Timestamp = .now) throws(APIError) -> TimeWindow {
        let window = TimeWindow(since: try time("since", now: now), until: try time("until", now: now))
        if let since = window.since, let until = window.until, until < since {
            throw .invalidParameter("until", "'until' (\(until.rfc3339)) is before 'since' (\(since.rfc3339))")
        }
        return window
    }

    /// The filters: verdict, user and model, the other named fields, `filter=` conditions and
    /// the `q=` search.
    func filter() throws(APIError) -> EventFilter {
        var verdicts: Set<Verdict> = []
        for v in all("verdict") {
            guard let verdict = Verdict(rawValue: v.lowercased()) else {
                throw .invalidParameter("verdict", "'verdict=\(v)' is not one of allow, block, redact, escalate")
            }
            verdicts.insert(verdict)
        }
        var fields: [String: Set<String>] = [:]
        for name in Self.filterNames.subtracting(["since", "until", "verdict", "user", "model", "filter", "q", "cache_hit", "admin"]) {
            let values = all(name)
            if !values.isEmpty { fields[name] = Set(values) }
        }
        for v in all("cache_hit") {
            let lowered = v.lowercased()
            guard lowered == "true" || lowered == "false" else { throw .invalidParameter("cache_hit", "'cache_hit=\(v)' is not true or false") }
            fields["cache_hit", default: []].insert(lowered)
        }
        var expressions: [FilterExpression] = []
        for text in all("filter") {
            do throws(AuditLogError) {
                expressions.append(try FilterExpression(parsing: text))
            } catch {
                throw .invalidParameter("filter", error.message)
            }
        }
        switch try one("admin")?.lowercased() {
        case nil, "false": break
        case "true": expressions.append(.administrative)
        case let other?: throw .invalidParameter("admin", "'admin=\(other)' is not true or false")
        }
        return EventFilter(verdicts: verdicts, users: Set(all("user")), models: Set(all("model")), fields: fields, expressions: expressions, search: try one("q"))
    }

    /// A positive integer, at most `maximum` (larger values are capped).
    func limit(default value: Int, maximum: Int) throws(APIError) -> Int {
        guard let text = try one("limit") else { return value }
        guard let n = Int(text), n >= 1 else { throw .invalidParameter("limit", "'limit=\(text)' is not a positive integer") }
        return min(n, maximum)
    }

    func order(default value: ReadOrder) throws(APIError) -> ReadOrder {
        guard let text = try one("order") else { return value }
        switch text.lowercased() {
        case "newest", "newest_first", "desc": return .newestFirst
        case "oldest", "oldest_first", "asc": return .oldestFirst
        default: throw .invalidParameter("order", "'order=\(text)' is not newest or oldest")
        }
    }
}
