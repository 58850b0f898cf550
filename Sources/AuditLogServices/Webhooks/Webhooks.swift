import AsyncHTTPClient
import AuditLog
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Webhook subscriptions of a log and their delivery, as a swift-service-lifecycle `Service`
/// (`auditlog serve` runs one; docs/OPERATIONS.md, "Webhooks").
///
/// Delivery is at least once, in seq order per subscription, from a durable cursor
/// (`webhooks/<id>.state`): after a restart it resumes where it stopped, and a repeated
/// delivery keeps its `webhook-id`. A failed delivery is retried with exponential backoff and
/// jitter; failures lasting longer than ``Options/retryLimit`` mark the subscription failing
/// (it keeps trying at the longest backoff, and nothing is skipped). Each subscription has its
/// own task reading the log: a slow or dead receiver slows neither appends nor the others.
public final class Webhooks: Service, Sendable {
    /// How deliveries are paced.
    public struct Options: Sendable {
        /// How often an idle deliverer looks for new records.
        public var pollInterval: Duration = .milliseconds(250)
        /// The first retry's delay; each next one doubles it (with jitter).
        public var initialBackoff: Duration = .seconds(1)
        /// The longest delay between retries.
        public var maxBackoff: Duration = .seconds(30)
        /// How long deliveries may keep failing before the subscription is marked failing.
        public var retryLimit: Duration = .seconds(86_400)
        /// How long one delivery may take.
        public var requestTimeout: Duration = .seconds(10)
        /// The least time between two evaluations of a subscription's spend thresholds.
        public var thresholdInterval: Duration = .seconds(1)

        /// The defaults: poll every 250 ms, retry after 1 s doubling to 30 s, failing after 24 h.
        public init() {}
    }

    /// A subscription with how its delivery goes (what `webhook list` and `GET /v1/webhooks`
    /// show, and `/metrics` counts).
    public struct Status: Sendable {
        public var subscription: WebhookSubscription
        /// The last seq looked at.
        public var cursor: UInt64
        /// Records appended after the cursor.
        public var lag: UInt64
        /// Deliveries made (all time).
        public var delivered: UInt64
        /// Failed attempts since this process started.
        public var failures: UInt64
        /// Whether failures outlasted the retry limit.
        public var failing: Bool
        /// Since when deliveries have been failing, if they are.
        public var failingSince: Timestamp?
        /// The last failure.
        public var lastError: String?

        /// The state of a subscription nothing was delivered to yet.
        package init(new subscription: WebhookSubscription) {
            self.subscription = subscription
            cursor = subscription.startSeq
            lag = 0
            delivered = 0
            failures = 0
            failing = false
        }

        init(
            subscription: WebhookSubscription, cursor: UInt64, lag: UInt64, delivered: UInt64, failures: UInt64, failing: Bool, failingSince: Timestamp?,
            lastError: String?
        ) {
            self.subscription = subscription
            self.cursor = cursor
            self.lag = lag
            self.delivered = delivered
            self.failures = failures
            self.failing = failing
            self.failingSince = failingSince
            self.lastError = lastError
        }

        /// `ok`, `retrying` (failing for less than the retry limit) or `failing`.
        public var state: String { failing ? "failing" : failingSince != nil ? "retrying" : "ok" }
    }

    struct Counters: Sendable {
        var failures: UInt64 = 0
    }

    struct State: Sendable {
        var tasks: [String: Task<Void, Never>] = [:]
        var running = false
        var counters: [String: Counters] = [:]
    }

    /// The log delivered from.
    public let log: AuditLog
    public let options: Options
    let store: WebhookStore
    let logger: Logger
    let state = Locked(State())
    /// Adds and removals, one at a time.
    private let changes = AsyncGate()
    /// The CloudEvents `source` of every delivery.
    let source: String

    /// The webhooks of `log` (opened for writing to change them or deliver).
    public init(log: AuditLog, options: Options = Options(), logger: Logger = Logger(label: "auditlog.webhooks")) {
        self.log = log
        self.options = options
        self.logger = logger
        store = WebhookStore(logDirectory: log.directory)
        source = "auditlog:" + log.logID.description
    }

    // MARK: Subscriptions

    /// The subscriptions, oldest first.
    public func subscriptions() throws(AuditLogError) -> [WebhookSubscription] {
        try store.subscriptions()
    }

    /// Each subscription with its delivery state; with `teams`, only those a token of those
    /// teams manages.
    public func statuses(teams: Set<String>? = nil) throws(AuditLogError) -> [Status] {
        let head = log.head.lastSeq?.rawValue ?? 0
        let counters = state.withLock { $0.counters }
        return try store.subscriptions().filter { Self.manages(teams, $0) }.map { (s) throws(AuditLogError) -> Status in
            let st = try store.state(s.id) ?? WebhookStore.State(cursor: s.startSeq)
            return Status(
                subscription: s, cursor: st.cursor, lag: head > st.cursor ? head - st.cursor : 0, delivered: st.delivered,
                failures: counters[s.id]?.failures ?? 0, failing: st.failing, failingSince: st.failingSince, lastError: st.lastError)
        }
    }

    /// Whether a caller limited to `teams` (nil: full access) manages `s`.
    static func manages(_ teams: Set<String>?, _ s: WebhookSubscription) -> Bool {
        guard let teams else { return true }
        guard let owned = s.teams else { return false }
        return Set(owned).isSubset(of: teams)
    }

    /// Adds a subscription starting at the log's head and records it (`audit.webhook_added`,
    /// without the secret). `secret`: `whsec_` + base64 of 16–64 bytes (the prefix may be left
    /// out, as Standard Webhooks libraries allow), generated when nil.
    /// `teams`: the creator's team scope, which limits what it is sent.
    public func add(
        url: String, events: [WebhookEventType], filter: [String] = [], thresholds: [SpendThreshold] = [], secret: String? = nil, actor: String,
        teams: Set<String>? = nil
    ) async throws(AuditLogError) -> WebhookSubscription {
        try Self.validate(url: url)
        guard !events.isEmpty else { throw AuditLogError(.invalidArgument, "give at least one event type: \(WebhookEventType.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard Set(events).count == events.count else { throw AuditLogError(.invalidArgument, "an event type is named twice") }
        if events.contains(.spendThreshold) && thresholds.isEmpty {
            throw AuditLogError(.invalidArgument, "spend.threshold needs at least one threshold, e.g. 'team=payments cost>100/day'")
        }
        if !thresholds.isEmpty && !events.contains(.spendThreshold) {
            throw AuditLogError(.invalidArgument, "thresholds are sent as spend.threshold: add it to the event types")
        }
        if let secret, WebhookSubscription.key(ofSecret: secret) == nil {
            throw AuditLogError(
                .invalidArgument, "a secret is 'whsec_' followed by the base64 of 16 to 64 random bytes (Standard Webhooks), e.g. whsec_\(Base64.encode(WebhookSubscription.randomBytes(24)))")
        }
        var subscription = WebhookSubscription(
            id: WebhookSubscription.newID(), url: url, events: events, filter: filter, thresholds: thresholds, secret: secret ?? WebhookSubscription.newSecret(),
            createdAt: .now, startSeq: log.head.lastSeq?.rawValue ?? 0, teams: teams.map { $0.sorted() }, createdBy: actor)
        _ = try subscription.eventFilter()
        return try await changes.run { () async throws(AuditLogError) -> WebhookSubscription in
            var all = try store.subscriptions()
            subscription.startSeq = log.head.lastSeq?.rawValue ?? 0
            all.append(subscription)
            try store.write(WebhookStore.State(cursor: subscription.startSeq), id: subscription.id)
            try store.write(all)
            do throws(AuditLogError) {
                try await record("audit.webhook_added", subscription, actor: actor)
            } catch {
                // Not recorded, not added.
                all.removeLast()
                try? store.write(all)
                store.removeState(subscription.id)
                throw error
            }
            startDeliverer(subscription)
            return subscription
        }
    }

    /// Removes the subscription `id` and records it (`audit.webhook_removed`). A caller of
    /// `teams` may remove only a subscription it manages; others are "not found".
    public func remove(id: String, actor: String, teams: Set<String>? = nil) async throws(AuditLogError) {
        try await changes.run { () async throws(AuditLogError) in
            var all = try store.subscriptions()
            guard let i = all.firstIndex(where: { $0.id == id && Self.manages(teams, $0) }) else {
                throw AuditLogError(.noLog, "no webhook subscription '\(id.prefix(100))'")
            }
            let removed = all.remove(at: i)
            try await record("audit.webhook_removed", removed, actor: actor)
            try store.write(all)
            let task = state.withLock { s in s.tasks.removeValue(forKey: id) }
            task?.cancel()
            await task?.value
            store.removeState(id)
        }
    }

    private func record(_ type: String, _ s: WebhookSubscription, actor: String) async throws(AuditLogError) {
        var event = AuditEvent(eventType: type, timestamp: .now)
        event.user = actor
        event.resource = "webhook:\(s.id)"
        // The subscription as its file holds it, without the secret.
        guard case .object(let members) = WebhookStore.json(s) else { return }
        event.details = .object(members.filter { $0.key != "secret" })
        _ = try await log.appendOwnRecords([event])
    }

    static func validate(url: String) throws(AuditLogError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty, url.utf8.count <= 2048
        else {
            throw AuditLogError(.invalidArgument, "webhook URL '\(url.prefix(200))' is not an http:// or https:// URL with a host")
        }
    }

    // MARK: Running

    /// Delivers to every subscription (and to those added while it runs) until cancelled or
    /// shut down gracefully; then stops each deliverer between two deliveries.
    public func run() async throws {
        let subscriptions = try store.subscriptions()
        state.withLock { $0.running = true }
        for s in subscriptions { startDeliverer(s) }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.running = false
            defer { s.tasks.removeAll() }
            return Array(s.tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func startDeliverer(_ subscription: WebhookSubscription) {
        state.withLock { s in
            guard s.running, s.tasks[subscription.id] == nil else { return }
            let deliverer = WebhookDeliverer(webhooks: self, subscription: subscription)
            s.tasks[subscription.id] = Task { await deliverer.run() }
        }
    }

    func countFailure(_ id: String) {
        state.withLock { $0.counters[id, default: Counters()].failures += 1 }
    }

    /// The client every delivery goes through: redirects are not followed, a refused
    /// connection fails at once (the deliverer retries with its own backoff).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}

extension Webhooks.Status {
    /// What `webhook list --json` prints and `GET /v1/webhooks` answers for one subscription:
    /// everything but the secret.
    package var json: JSONValue {
        guard case .object(var members) = WebhookStore.json(subscription) else { return .null }
        members.removeAll { $0.key == "secret" }
        members += [
            JSONMember("state", .string(state)),
            JSONMember("cursor", .integer(cursor)),
            JSONMember("lag", .integer(lag)),
            JSONMember("delivered", .integer(delivered)),
            JSONMember("failing_since", .string(failingSince?.rfc3339)),
            JSONMember("last_error", .string(lastError)),
        ]
        return .object(members)
    }
}
