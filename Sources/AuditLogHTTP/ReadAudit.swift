import AuditLog
import Foundation
import Hummingbird
import Logging

/// The audit log audits its readers: each request that reads events through the API becomes
/// an `audit.read` record (docs/HTTP.md, "Who read what") naming the token (its name or digest
/// prefix, never the token), the route, the query parameters, how many events it returned and
/// the client's address.
///
/// Bounded: pages and lookups of one caller on one route coalesce while they keep coming less
/// than a second apart (at most 10 s) into one record with a count of requests; a tail
/// connection and an export are one record each, written when they end. Records are appended
/// in the background, a batch at a time, never on the request's path.
final class ReadAudit: Sendable {
    /// What makes pages one record.
    private struct Key: Hashable {
        var actor: String
        var client: String?
        var route: String
        /// Set for reads that are never merged (a tail, an export).
        var unique: Int?
    }

    private struct Pending {
        var event: AuditEvent
        var requests: Int
        var events: Int
        var started: ContinuousClock.Instant
        var last: ContinuousClock.Instant
    }

    private struct State {
        var pending: [Key: Pending] = [:]
        var flusher: Task<Void, Never>?
        var nextUnique = 0
        var closed = false
    }

    /// When a caller's coalesced pages are written: after `quiet` without another, at most
    /// `longest` after the first.
    struct Timing: Sendable {
        var quiet = Duration.seconds(1)
        var longest = Duration.seconds(10)
    }

    private let log: AuditLog?
    private let logger: Logger
    private let timing: Timing
    private let state = Locked(State())

    /// Records reads into `log`; nil records nothing (`--no-read-audit`, a read-only log).
    init(log: AuditLog?, timing: Timing = Timing(), logger: Logger = Logger(label: "auditlog.read-audit")) {
        self.log = log
        self.timing = timing
        self.logger = logger
    }

    /// Whether reads are recorded.
    var isEnabled: Bool { log != nil }

    /// Notes one read. `coalesce`: a page or lookup (merged with the caller's others on the
    /// route); otherwise a tail or export, one record of its own.
    func record(_ caller: Caller, route: String, request: Request, events: Int, coalesce: Bool = true, details extra: [JSONMember] = []) {
        guard log != nil else { return }
        var event = AuditEvent(eventType: "audit.read", timestamp: .now)
        event.user = caller.actor
        event.resource = route
        event.ip = caller.client
        event.userAgent = request.headers[.userAgent].map { String($0.prefix(200)) }
        event.source = "http"
        var details = [
            JSONMember("route", .string(route)),
            JSONMember("token", caller.token.map { .string($0.label) } ?? .null),
            JSONMember("parameters", Self.parameters(request)),
        ]
        if let teams = caller.teams { details.append(JSONMember("token_teams", .array(teams.sorted().map { .string($0) }))) }
        details += extra
        event.details = .object(details)
        enqueue(event, key: Key(actor: caller.actor, client: caller.client, route: route, unique: nil), events: events, now: .now, unique: !coalesce)
    }

    /// Records refused requests (a missing, unknown or too narrow token): one
    /// `audit.auth_failed` for a client's refusals coalesced like pages, with their count.
    func authFailed(client: String?, route: String, status: Int, request: Request) {
        guard log != nil else { return }
        var event = AuditEvent(eventType: "audit.auth_failed", timestamp: .now)
        event.user = "unauthenticated"
        event.ip = client
        event.userAgent = request.headers[.userAgent].map { String($0.prefix(200)) }
        event.resource = route
        event.source = "http"
        event.details = .object([JSONMember("route", .string(String(route.prefix(200)))), JSONMember("status", .integer(status))])
        enqueue(event, key: Key(actor: "unauthenticated", client: client, route: "auth_failed", unique: nil), events: 0, now: .now, unique: false)
    }

    /// Adds `event` as pending under `key` (merged with a pending one of the same key unless
    /// `unique`), starting the flusher when needed.
    private func enqueue(_ event: AuditEvent, key: Key, events: Int, now: ContinuousClock.Instant, unique: Bool) {
        let start = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            var key = key
            if unique {
                s.nextUnique += 1
                key.unique = s.nextUnique
            }
            if var p = s.pending[key] {
                p.requests += 1
                p.events += events
                p.last = now
                s.pending[key] = p
            } else {
                s.pending[key] = Pending(event: event, requests: 1, events: events, started: now, last: now)
            }
            guard s.flusher == nil else { return false }
            return true
        }
        if start { startFlusher() }
    }

    /// Writes every pending record now (at shutdown, before the log closes); later reads are
    /// not recorded.
    func close() async {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.closed = true
            return s.flusher
        }
        task?.cancel()
        await task?.value
        await flush(everything: true)
    }

    private func startFlusher() {
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                let empty = await flush(everything: false)
                if empty { return }
            }
        }
        state.withLock { s in
            if s.flusher == nil { s.flusher = task } else { task.cancel() }
        }
    }

    /// Appends the records that are due; returns whether nothing is left pending (the flusher
    /// then stops, and the next read starts another).
    @discardableResult
    private func flush(everything: Bool) async -> Bool {
        let now = ContinuousClock.now
        let due = state.withLock { s -> [Pending] in
            var due: [Pending] = []
            for (key, p) in s.pending where everything || key.unique != nil || now - p.last >= timing.quiet || now - p.started >= timing.longest {
                due.append(p)
                s.pending[key] = nil
            }
            if s.pending.isEmpty && !everything { s.flusher = nil }
            return due
        }
        if !due.isEmpty, let log {
            let events = due.sorted { $0.started < $1.started }.map { p -> AuditEvent in
                var event = p.event
                if case .object(var members) = event.details {
                    members.append(JSONMember("requests", .integer(p.requests)))
                    members.append(JSONMember("events", .integer(p.events)))
                    event.details = .object(members)
                }
                return event
            }
            do {
                _ = try await log.appendOwnRecords(events)
            } catch {
                logger.error("could not record reads", metadata: ["error": "\(error.summary)", "records": "\(events.count)"])
            }
        }
        return state.withLock { $0.pending.isEmpty }
    }

    /// The query parameters as a JSON object (a repeated name: an array), bounded.
    static func parameters(_ request: Request) -> JSONValue {
        var members: [JSONMember] = []
        for (name, value) in request.uri.queryParameters.prefix(40) {
            let key = String(name.prefix(100))
            let text = JSONValue.string(String(value.prefix(500)))
            if let i = members.firstIndex(where: { $0.key == key }) {
                if case .array(let items) = members[i].value {
                    members[i].value = .array(items + [text])
                } else {
                    members[i].value = .array([members[i].value, text])
                }
            } else {
                members.append(JSONMember(key, text))
            }
        }
        return .object(members)
    }
}
