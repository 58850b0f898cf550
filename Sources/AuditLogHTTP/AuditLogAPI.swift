import AuditLog
import AuditLogServices
import HTTPTypes
import Hummingbird
import NIOCore

/// The HTTP API of an audit log, as routes that mount onto any Hummingbird 2 router.
///
/// ```swift
/// let log = try await AuditLog.open(directory: "/var/lib/auditlog")
/// var tokens = APITokens()
/// tokens.add(token: secret, scope: .write)
/// let router = Router()
/// AuditLogAPI(log: log, configuration: .init(tokens: tokens)).register(on: router)
/// ```
///
/// Endpoints (docs/HTTP.md describes each): `GET /v1/events`, `GET /v1/events/{id}`,
/// `POST /v1/events`, `GET /v1/export`, `GET /v1/usage`, `GET /v1/tail` (Server-Sent Events),
/// `GET /v1/verify`, `GET /v1/verify/latest`, `GET /v1/head`, `GET /v1/checkpoint`, `GET /v1/proof/inclusion`,
/// `GET /v1/proof/consistency`, the C2SP tlog-tiles API under `/tlog/`, `GET|POST /v1/holds`,
/// `DELETE /v1/holds/{id}`, `POST /v1/sweep`, `GET|POST /v1/webhooks`,
/// `DELETE /v1/webhooks/{id}`, `GET /healthz`, `GET /metrics`. Every error is
/// `{"error":{"code":"…","message":"…"}}`.
public struct AuditLogAPI: Sendable {
    /// How the API behaves.
    public struct Configuration: Sendable {
        /// The bearer tokens accepted; nil lets every request through (no authentication).
        public var tokens: APITokens?
        /// Largest request body `POST /v1/events` accepts; larger ones get 413.
        public var maxBodyBytes: Int
        /// How often a `/v1/tail` stream looks for new records.
        public var tailPollInterval: Duration
        /// How long a quiet `/v1/tail` stream waits before sending a keep-alive comment.
        public var tailKeepAlive: Duration
        /// About the most JSON one `GET /v1/events` page holds, whatever its `limit`: a page
        /// of large events ends early with a cursor (it always holds at least one event).
        public var maxPageBytes: Int
        /// Serve `/tlog/checkpoint` and the hash tiles without a token (for witnesses); entry
        /// bundles, which hold the events, still need a read token.
        public var publicTree = false
        /// Record every read of events through the API as an `audit.read` record (on a log
        /// open for writing; docs/HTTP.md, "Who read what").
        public var recordReads = true
        /// When coalesced `audit.read` records are written (tests stretch it).
        var readAuditTiming = ReadAudit.Timing()

        /// A configuration; see the properties.
        public init(
            tokens: APITokens?, maxBodyBytes: Int = 16 << 20, tailPollInterval: Duration = .milliseconds(100),
            tailKeepAlive: Duration = .seconds(15), maxPageBytes: Int = 8 << 20
        ) {
            self.tokens = tokens
            self.maxBodyBytes = maxBodyBytes
            self.tailPollInterval = tailPollInterval
            self.tailKeepAlive = tailKeepAlive
            self.maxPageBytes = maxPageBytes
        }
    }

    /// The log served.
    public let log: AuditLog
    /// The configuration.
    public let configuration: Configuration
    /// The counters behind `GET /metrics`.
    public let metrics: APIMetrics
    /// Verifications in progress, shared by concurrent `/v1/verify` requests.
    let verifications = SharedVerification()
    /// The newest sweep record, for `/metrics`.
    let sweeps = SweepWatcher()
    /// `audit.read` records of the reads served.
    let readAudit: ReadAudit
    /// The webhook subscriptions managed over `/v1/webhooks` (nil: none, a read-only log).
    public let webhooks: Webhooks?

    /// The API over `log`.
    /// The API over `log`; `webhooks` (delivered by the caller's service group) are managed
    /// over `/v1/webhooks`.
    public init(log: AuditLog, configuration: Configuration, metrics: APIMetrics = APIMetrics(), webhooks: Webhooks? = nil) {
        self.log = log
        self.webhooks = webhooks
        self.configuration = configuration
        self.metrics = metrics
        readAudit = ReadAudit(log: configuration.recordReads && log.options.access == .readWrite ? log : nil, timing: configuration.readAuditTiming)
    }

    /// Whether reads are being recorded (``Configuration/recordReads`` on a writable log).
    public var recordsReads: Bool { readAudit.isEnabled }

    /// Writes what is still pending (the `audit.read` records of the last second's reads);
    /// call it when the server has stopped, before closing the log.
    public func shutdown() async {
        await readAudit.close()
    }

    /// Adds the API's routes to `router`. Its middleware (authentication, JSON errors,
    /// metrics) applies to these routes only, not to others on the same router.
    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        let errors = APIErrorMiddleware<Context>(metrics: metrics)
        let open = router.group().add(middleware: errors)
        open.get("healthz") { _, _ in try await self.health() }
        open.head("healthz") { _, _ in try await self.health().withoutBody() }
        open.get("metrics") { _, _ in try await self.prometheus() }

        let read = router.group("v1").add(middleware: errors)
            .add(middleware: BearerAuthMiddleware<Context>(tokens: configuration.tokens, scope: .read, audit: readAudit))
        read.get("events") { request, context in try await self.listEvents(request, caller: self.caller(request, context: context)) }
        read.get("events/:id") { request, context in try await self.event(request, rawID: context.parameters.get("id") ?? "", caller: self.caller(request, context: context)) }
        read.get("export") { request, context in try await self.export(request, caller: self.caller(request, context: context)) }
        read.get("usage") { request, context in try await self.usage(request, caller: self.caller(request, context: context)) }
        read.get("tail") { request, context in
            try await self.tail(request, caller: self.caller(request, context: context), channel: (context as? any ConnectionAwareContext)?.channel)
        }
        read.get("verify") { request, _ in try await self.verify(request) }
        read.get("verify/latest") { request, _ in try await self.latestVerification(request) }
        read.get("head") { request, _ in try await self.head(request) }
        read.get("checkpoint") { request, _ in try await self.checkpoint(request) }
        read.get("holds") { request, _ in try await self.listHolds(request) }
        read.get("proof/inclusion") { request, context in try await self.inclusionProof(request, caller: self.caller(request, context: context)) }
        read.get("proof/consistency") { request, _ in try await self.consistencyProof(request) }

        // C2SP tlog-tiles: the checkpoint and hash tiles public with `publicTree`, entry
        // bundles always behind a read token (the handler decides, by path).
        let tree = router.group("tlog").add(middleware: errors)
        tree.get("checkpoint") { request, _ in try await self.tlogCheckpoint(request) }
        tree.get("tile/**") { request, context in try await self.tlogTile(request, context: context) }

        let write = router.group("v1").add(middleware: errors)
            .add(middleware: BearerAuthMiddleware<Context>(tokens: configuration.tokens, scope: .write, audit: readAudit))
        write.post("events") { request, context in try await self.appendEvents(request, caller: self.caller(request, context: context)) }
        write.post("holds") { request, context in try await self.placeHold(request, caller: self.caller(request, context: context)) }
        write.delete("holds/:id") { request, context in
            try await self.releaseHold(request, rawID: context.parameters.get("id") ?? "", caller: self.caller(request, context: context))
        }
        write.post("sweep") { request, context in try await self.sweep(request, caller: self.caller(request, context: context)) }
        write.get("webhooks") { request, context in try await self.listWebhooks(request, caller: self.caller(request, context: context)) }
        write.post("webhooks") { request, context in try await self.addWebhook(request, caller: self.caller(request, context: context)) }
        write.delete("webhooks/:id") { request, context in
            try await self.removeWebhook(request, rawID: context.parameters.get("id") ?? "", caller: self.caller(request, context: context))
        }
    }

    /// The methods the API answers on `path` (as mounted at the root), nil for a path it
    /// does not serve: a wrong method on one of its paths is 405, not 404.
    static func methods(forPath path: String) -> [String]? {
        switch path {
        case "/v1/events", "/v1/holds", "/v1/webhooks": ["GET", "POST"]
        case "/v1/sweep": ["POST"]
        case "/healthz": ["GET", "HEAD"]
        case "/metrics", "/v1/export", "/v1/usage", "/v1/tail", "/v1/verify", "/v1/verify/latest", "/v1/head", "/v1/checkpoint", "/v1/proof/inclusion", "/v1/proof/consistency",
            "/tlog/checkpoint":
            ["GET"]
        case _ where path.hasPrefix("/tlog/tile/"): ["GET"]
        default:
            if Self.isItem(path, under: "/v1/events/") { ["GET"] } else if Self.isItem(path, under: "/v1/holds/") || Self.isItem(path, under: "/v1/webhooks/") { ["DELETE"] } else { nil }
        }
    }

    /// Whether `path` is `<prefix><one segment>`.
    private static func isItem(_ path: String, under prefix: String) -> Bool {
        path.hasPrefix(prefix) && path.count > prefix.count && !path.dropFirst(prefix.count).contains("/")
    }

    /// A JSON response.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(Array((value.jsonText + "\n").utf8), status: status)
    }
}

extension Response {
    /// The same status and headers with no body: the answer to `HEAD`.
    func withoutBody() -> Response {
        var copy = self
        copy.body = ResponseBody()
        return copy
    }
}
