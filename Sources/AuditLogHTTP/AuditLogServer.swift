import AuditLog
import Hummingbird
import Logging
import NIOCore

/// A standalone server for the API: `auditlog serve` runs one.
public enum AuditLogServer {
    /// Whether `host` names a loopback interface (127.0.0.0/8, ::1 or localhost).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// An application serving `api` on `host:port` (port 0: any free port). Requests outside
    /// the API get JSON 404s. `onRunning` is called with the bound port once it listens.
    public static func application(
        api: AuditLogAPI, host: String, port: Int, logger: Logger = Logger(label: "auditlog.http"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: APIErrorMiddleware<BasicRequestContext>(metrics: nil))
        api.register(on: router)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "auditlog"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
