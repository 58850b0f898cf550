import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// A standalone server for the API: `auditlog serve` runs one.
public enum AuditLogServer {
    /// Whether `host` names only loopback interfaces: an address in 127.0.0.0/8 or `::1`, or a
    /// name every address of which is one (`localhost`). A name is resolved, never matched as
    /// text: `127.foo.example` is whatever its DNS says.
    public static func isLoopback(_ host: String) -> Bool {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        var any = false
        while let info = node {
            defer { node = info.pointee.ai_next }
            guard let address = info.pointee.ai_addr else { continue }
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                let ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                guard UInt32(bigEndian: ipv4) >> 24 == 127 else { return false }
            case AF_INET6:
                let loopback = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                    withUnsafeBytes(of: p.pointee.sin6_addr) { $0.elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) }
                }
                guard loopback else { return false }
            default:
                return false
            }
            any = true
        }
        return any
    }

    /// An application serving `api` on `host:port` (port 0: any free port), with `limits` on
    /// connections. Requests outside the API get JSON 404s. `onRunning` is called with the
    /// bound port once it listens.
    ///
    /// Without tokens (`api.configuration.tokens` nil: `--insecure-no-auth` on a loopback host)
    /// a request must name this server in `Host` (the bind address, `localhost`, `127.0.0.1`
    /// or `[::1]`, with the port) and, from a browser, come from such an `Origin`: no web page
    /// can reach the API through DNS rebinding or a cross-site form.
    ///
    /// With `console` (the default), `GET /` serves the events console (``AuditLogConsole``).
    public static func application(
        api: AuditLogAPI, host: String, port: Int, limits: ConnectionLimits = ConnectionLimits(),
        console: Bool = true, logger: Logger = Logger(label: "auditlog.http"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        application(authenticated: api.configuration.tokens != nil, console: console, host: host, port: port, limits: limits, logger: logger, onRunning: onRunning) {
            api.register(on: $0)
            if console { AuditLogConsole(api: api).register(on: $0) }
        }
    }

    /// An application serving a fleet's API (``FleetAPI``), as ``application(api:host:port:limits:logger:onRunning:)``
    /// serves one log's.
    public static func application(
        fleet: FleetAPI, host: String, port: Int, limits: ConnectionLimits = ConnectionLimits(),
        logger: Logger = Logger(label: "auditlog.http"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        application(authenticated: fleet.tokens != nil, host: host, port: port, limits: limits, logger: logger, onRunning: onRunning) {
            fleet.register(on: $0)
        }
    }

    private static func application(
        authenticated: Bool, console: Bool = false, host: String, port: Int, limits: ConnectionLimits, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void,
        register: (Router<AuditLogRequestContext>) -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: AuditLogRequestContext.self)
        router.add(middleware: APIErrorMiddleware<AuditLogRequestContext>(metrics: nil, servesConsole: console))
        let bound = BoundPort()
        if !authenticated {
            router.add(middleware: LocalOriginMiddleware<AuditLogRequestContext>(host: host, port: bound))
        }
        register(router)
        let registry = ConnectionRegistry(limits: limits)
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, registry: registry) },
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "auditlog"),
            onServerRunning: { channel in
                let actual = channel.localAddress?.port ?? port
                bound.set(actual)
                await onRunning(actual)
            },
            logger: logger
        )
    }
}

/// The request context of the standalone server: Hummingbird's basic one plus the
/// connection, so that a long response (a live tail) ends as soon as its client goes away.
public struct AuditLogRequestContext: RequestContext, ConnectionAwareContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's connection.
    public let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// A request context that knows its connection (see ``AuditLogRequestContext``). Routes on
/// other contexts work as well; they notice a departed client only when writing to it.
public protocol ConnectionAwareContext {
    /// The request's connection, if known.
    var channel: (any Channel)? { get }
}

/// The port the server listens on, known once it runs (port 0 asks for any free one).
final class BoundPort: Sendable {
    private let value = Locked<Int?>(nil)
    func set(_ port: Int) { value.withLock { $0 = port } }
    var port: Int? { value.withLock { $0 } }
}

/// Without authentication, answers only requests that name this server in `Host` and, when
/// they carry an `Origin`, come from a page of this server: 421 for another host (DNS
/// rebinding), 403 for another origin (a cross-site request).
struct LocalOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let host: String
    let port: BoundPort

    private var names: Set<String> {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var out: Set<String> = ["localhost", "127.0.0.1", "[::1]"]
        out.insert(bare.contains(":") ? "[\(bare)]" : bare.lowercased())
        return out
    }

    /// Whether `authority` (`host[:port]`) names this server.
    func isLocal(_ authority: Substring) -> Bool {
        guard let port = port.port else { return false }
        let lowered = authority.lowercased()
        return names.contains { lowered == "\($0):\(port)" || (port == 80 && lowered == $0) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let authority = request.head.authority ?? ""
        guard isLocal(Substring(authority)) else {
            throw APIError(
                .misdirectedRequest, code: "misdirected",
                "this server answers only requests for its own address (Host '\(authority.prefix(100))' is not one); it runs without authentication, on loopback only")
        }
        if let origin = request.headers[.origin], origin != "null" {
            let parts = origin.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0] == "http:", isLocal(parts[1]) else {
                throw APIError(.forbidden, code: "forbidden_origin", "requests from pages of another origin ('\(origin.prefix(100))') are refused: this server runs without authentication")
            }
        }
        return try await next(request, context)
    }
}
