import AuditLog
import Foundation

/// The webhook files of a log directory (docs/FORMAT.md, "Webhook files"):
/// `webhooks/subscriptions.json`, written by whoever holds the log's write lock (the server or
/// a command), and one `webhooks/<id>.state` per subscription, the durable cursor its
/// deliverer writes after each delivery. Both are replaced atomically (temporary file, fsync,
/// rename, fsync of the directory); the directory is private to the owner (mode 0700), as the
/// subscriptions hold their signing secrets.
struct WebhookStore: Sendable {
    /// The `webhooks` directory.
    let path: String

    init(logDirectory: String) {
        path = logDirectory + "/webhooks"
    }

    var subscriptionsPath: String { path + "/subscriptions.json" }

    func statePath(_ id: String) -> String { path + "/\(id).state" }

    // MARK: Subscriptions

    /// The subscriptions, in the order they were added (none when the file does not exist).
    func subscriptions() throws(AuditLogError) -> [WebhookSubscription] {
        guard let bytes = try read(subscriptionsPath) else { return [] }
        let file = "webhooks/subscriptions.json"
        let root = try JSONValue.parse(bytes, file: file)
        guard root["version"]?.intValue == 1, let items = root["subscriptions"]?.arrayValue else {
            throw AuditLogError(.corruption, "not a version 1 subscriptions file", location: .init(file: file))
        }
        var out: [WebhookSubscription] = []
        for (i, item) in items.enumerated() {
            out.append(try Self.subscription(item, file: file, index: i))
        }
        return out
    }

    func write(_ subscriptions: [WebhookSubscription]) throws(AuditLogError) {
        try makeDirectory()
        let root = JSONValue.object([
            JSONMember("version", .integer(1)),
            JSONMember("subscriptions", .array(subscriptions.map(Self.json))),
        ])
        try LocalFiles.writeAtomically(Array((root.jsonText + "\n").utf8), to: subscriptionsPath, directory: path, displayName: "webhooks/subscriptions.json")
    }

    static func json(_ s: WebhookSubscription) -> JSONValue {
        var members = [
            JSONMember("id", .string(s.id)),
            JSONMember("url", .string(s.url)),
            JSONMember("events", .array(s.events.map { .string($0.rawValue) })),
            JSONMember("filter", .array(s.filter.map { .string($0) })),
            JSONMember("thresholds", .array(s.thresholds.map { .string($0.description) })),
            JSONMember("secret", .string(s.secret)),
            JSONMember("created_at", .string(s.createdAt.rfc3339)),
            JSONMember("created_by", .string(s.createdBy)),
            JSONMember("start_seq", .integer(s.startSeq)),
        ]
        if let teams = s.teams { members.append(JSONMember("teams", .array(teams.map { .string($0) }))) }
        return .object(members)
    }

    static func subscription(_ v: JSONValue, file: String, index: Int) throws(AuditLogError) -> WebhookSubscription {
        func fail(_ field: String) -> AuditLogError {
            AuditLogError(.corruption, "subscription \(index): '\(field)' is missing or not valid", location: .init(file: file, index: index, field: field))
        }
        func strings(_ field: String) throws(AuditLogError) -> [String] {
            guard let items = v[field]?.arrayValue else { throw fail(field) }
            var out: [String] = []
            for item in items {
                guard let s = item.stringValue else { throw fail(field) }
                out.append(s)
            }
            return out
        }
        guard let id = v["id"]?.stringValue else { throw fail("id") }
        guard let url = v["url"]?.stringValue else { throw fail("url") }
        guard let secret = v["secret"]?.stringValue else { throw fail("secret") }
        guard let created = v["created_at"]?.stringValue.flatMap({ Timestamp(rfc3339: $0) }) else { throw fail("created_at") }
        guard let start = v["start_seq"]?.intValue, start >= 0 else { throw fail("start_seq") }
        var events: [WebhookEventType] = []
        for text in try strings("events") {
            guard let e = WebhookEventType(rawValue: text) else { throw fail("events") }
            events.append(e)
        }
        var thresholds: [SpendThreshold] = []
        for text in try strings("thresholds") {
            do throws(AuditLogError) {
                thresholds.append(try SpendThreshold(parsing: text))
            } catch {
                throw fail("thresholds")
            }
        }
        let teams: [String]? = v["teams"] == nil ? nil : try strings("teams")
        return WebhookSubscription(
            id: id, url: url, events: events, filter: try strings("filter"), thresholds: thresholds, secret: secret, createdAt: created,
            startSeq: UInt64(start), teams: teams, createdBy: v["created_by"]?.stringValue ?? "")
    }

    // MARK: Delivery state

    /// A subscription's delivery state: its durable cursor and what it knows of failures and
    /// thresholds.
    struct State: Sendable, Hashable {
        /// The last seq whose deliveries all succeeded.
        var cursor: UInt64
        /// Since when deliveries have been failing (nil: the last one succeeded).
        var failingSince: Timestamp?
        /// Set once failures outlast the retry limit.
        var failing = false
        /// The last failure.
        var lastError: String?
        /// Per threshold (as written): the start of the last window it fired in.
        var fired: [String: Timestamp] = [:]
        /// Deliveries made (all time).
        var delivered: UInt64 = 0
    }

    func state(_ id: String) throws(AuditLogError) -> State? {
        guard let bytes = try read(statePath(id)) else { return nil }
        let file = "webhooks/\(id).state"
        let v = try JSONValue.parse(bytes, file: file)
        guard let cursor = v["cursor"]?.intValue, cursor >= 0 else {
            throw AuditLogError(.corruption, "'cursor' is missing or not a seq", location: .init(file: file, field: "cursor"))
        }
        var state = State(cursor: UInt64(cursor))
        state.failingSince = v["failing_since"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }
        state.failing = v["failing"]?.boolValue ?? false
        state.lastError = v["last_error"]?.stringValue
        state.delivered = v["delivered"]?.intValue.map { UInt64(max(0, $0)) } ?? 0
        if case .object(let members)? = v["fired"] {
            for m in members { if let t = m.value.stringValue.flatMap({ Timestamp(rfc3339: $0) }) { state.fired[m.key] = t } }
        }
        return state
    }

    func write(_ state: State, id: String) throws(AuditLogError) {
        try makeDirectory()
        let v = JSONValue.object([
            JSONMember("cursor", .integer(state.cursor)),
            JSONMember("failing_since", .string(state.failingSince?.rfc3339)),
            JSONMember("failing", .bool(state.failing)),
            JSONMember("last_error", .string(state.lastError)),
            JSONMember("delivered", .integer(state.delivered)),
            JSONMember("fired", .object(state.fired.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value.rfc3339)) })),
        ])
        try LocalFiles.writeAtomically(Array((v.jsonText + "\n").utf8), to: statePath(id), directory: path, displayName: "webhooks/\(id).state")
    }

    func removeState(_ id: String) {
        LocalFiles.remove(statePath(id))
    }

    // MARK: Files

    private func makeDirectory() throws(AuditLogError) {
        try LocalFiles.makePrivateDirectory(path)
    }

    private func read(_ file: String) throws(AuditLogError) -> [UInt8]? {
        try LocalFiles.read(file, displayName: "webhooks/" + (file.split(separator: "/").last.map(String.init) ?? ""))
    }
}
