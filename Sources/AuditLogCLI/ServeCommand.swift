import ArgumentParser
import AuditLog
import AuditLogHTTP
import AuditLogServices
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the log over HTTP: events, export, usage, live tail, verify, metrics.",
        discussion: """
            Bearer tokens come from --token-file (one token a line: 'read <hex SHA-256>' or \
            'write <hex SHA-256>', # comments; write implies read) and/or the environment \
            variable AUDITLOG_API_TOKEN (one token in clear, write scope). With neither the \
            server refuses to start, unless --insecure-no-auth is given and the host is \
            loopback. A token line may end with team=<team>[,<team>…] (the token sees and writes \
            only those teams' events) and name=<name> (how audit.read records name it). Creates \
            the log when the directory holds none (unless --read-only). Stops gracefully on \
            SIGINT or SIGTERM: open requests finish, then the log is closed.

            With --retention (or AUDITLOG_RETENTION=90d, or AUDITLOG_RETENTION_HOURS=2160) the \
            server sweeps at start and every --sweep-interval; a failed sweep is logged and tried \
            again at the next. Holds, sweeps and webhooks are managed over /v1/holds, /v1/sweep \
            and /v1/webhooks (or auditlog hold|sweep|webhook --server URL). Every read of events \
            through the API is recorded as an audit.read event (--no-read-audit turns it off).

            Examples:
              printf '%s' "$TOKEN" | sha256sum | awk '{print "write " $1}' > tokens
              auditlog serve --dir /var/lib/audit --port 8080 --token-file tokens
              AUDITLOG_API_TOKEN=s3cret auditlog serve --port 8080
              auditlog serve --insecure-no-auth --port 0
              auditlog serve --token-file tokens --retention 90d --sweep-interval 1h
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @OptionGroup(title: "Archive writing") var archiveWriting: ArchiveWriterArguments

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port; the one chosen is printed).")
    var port = 8080

    @Option(help: ArgumentHelp("File of accepted tokens' SHA-256 digests with their scopes.", valueName: "path"))
    var tokenFile: String?

    @Flag(help: "Accept requests without a token (only on a loopback host).")
    var insecureNoAuth = false

    @Flag(help: "Open the log read-only (another process writes it); POST /v1/events is refused.")
    var readOnly = false

    @Option(help: ArgumentHelp("Largest request body accepted (e.g. 16MiB).", valueName: "size"))
    var maxBodySize = "16MiB"

    @Option(help: "When appends are synced: batch (each batch, group commit), interval (every 100 ms) or none.")
    var durability: IngestCommand.Durability = .batch

    @Option(help: "Partition length for a new log.")
    var partition: IngestCommand.PartitionArgument = .day

    @Option(
        help:
            "How new segments store their frames: rows (fastest) or columns (about 40 % fewer bytes, slower appends and whole-frame reads; docs/FORMAT.md). Default: as the log's newest segment, rows for a new log."
    )
    var frameEncoding: IngestCommand.FrameEncodingArgument?

    @Option(help: ArgumentHelp("Close a connection idle this long.", valueName: "duration"))
    var idleTimeout = "30s"

    @Option(help: ArgumentHelp("Close a connection whose request head has not arrived whole this long after its first byte.", valueName: "duration"))
    var headerTimeout = "10s"

    @Option(
        help: ArgumentHelp(
            "Most connections open at once (default: the descriptor limit less 64 kept for the log's files). At the cap, the longest-idle connection is closed for a new one.", valueName: "count"))
    var maxConnections: Int?

    @Option(help: ArgumentHelp("On SIGTERM or SIGINT, how long open requests may take to finish before their connections are closed.", valueName: "duration"))
    var shutdownTimeout = "10s"

    @Option(help: ArgumentHelp("Sign a checkpoint of the Merkle tree with this signer key (from auditlog keygen) whenever the log grew, at most every --checkpoint-interval.", valueName: "path"))
    var signingKey: String?

    @Option(help: ArgumentHelp("With --signing-key: the least time between two checkpoints.", valueName: "duration"))
    var checkpointInterval = "10s"

    @Flag(help: "Serve /tlog/checkpoint and the hash tiles under /tlog/tile/ without a token (for witnesses); entry bundles still need one.")
    var publicTree = false

    @Flag(help: "Serve every node's archived log under --archive s3://BUCKET/PREFIX as one, read-only (--dir holds the local mirror and cache).")
    var fleet = false

    @Option(
        help: ArgumentHelp(
            "Sweep segments whose newest event is older than this (90d, 12h), at start and every --sweep-interval. Default: $AUDITLOG_RETENTION, else $AUDITLOG_RETENTION_HOURS hours, else no sweeps.",
            valueName: "duration"))
    var retention: String?

    @Option(help: ArgumentHelp("With retention: the time between sweeps.", valueName: "duration"))
    var sweepInterval = "1h"

    @Flag(help: "Do not serve the events console (the web page at /).")
    var noConsole = false

    @Flag(help: "Do not record reads through the API as audit.read events (a warning is printed at start).")
    var noReadAudit = false

    @Option(help: ArgumentHelp("How long webhook deliveries may keep failing before the subscription is marked failing (it keeps retrying).", valueName: "duration"))
    var webhookRetryLimit = "24h"

    @Option(help: ArgumentHelp("The longest wait between two attempts of a failing webhook delivery.", valueName: "duration"))
    var webhookMaxBackoff = "30s"

    func validate() throws {
        if fleet && log.archive.archive == nil { throw ValidationError("--fleet reads the logs archived under --archive s3://BUCKET/PREFIX: give --archive") }
        if fleet && (signingKey != nil || archiveWriting.isGiven) {
            throw ValidationError("--fleet serves archived logs read-only: drop --signing-key, --object-lock-days, --local-retention and --upload-timeout")
        }
        if signingKey != nil && readOnly { throw ValidationError("--signing-key needs the log open for writing: drop --read-only") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard let bytes = ByteSize.parse(maxBodySize), bytes > 0, bytes <= Int64(Int32.max) else {
            throw ValidationError("--max-body-size '\(maxBodySize)' is not a size such as 512KiB or 16MiB (at most 2GiB)")
        }
        if fleet && (retention != nil) { throw ValidationError("--fleet serves archived logs read-only: drop --retention") }
        if readOnly && retention != nil { throw ValidationError("--retention sweeps, which needs the log open for writing: drop --read-only") }
        if let retention, (TimeExpression.durationNanos(retention) ?? 0) <= 0 {
            throw ValidationError("--retention '\(retention)' is not a duration such as 90d, 12h or 2w")
        }
        for (flag, value) in [
            ("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--shutdown-timeout", shutdownTimeout), ("--checkpoint-interval", checkpointInterval),
            ("--sweep-interval", sweepInterval), ("--webhook-retry-limit", webhookRetryLimit), ("--webhook-max-backoff", webhookMaxBackoff),
        ] {
            guard let nanos = TimeExpression.durationNanos(value), nanos > 0 else {
                throw ValidationError("\(flag) '\(value)' is not a duration such as 30s, 5m or 1h")
            }
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1, got \(maxConnections)") }
    }

    func run() async throws {
        try await runCLI { try await serve() }
    }

    private func tokens() throws -> APITokens? {
        // A token pasted with a trailing newline or space would never match what a client
        // sends (clients' headers are trimmed): it is trimmed, and the user told.
        let rawToken = ProcessInfo.processInfo.environment["AUDITLOG_API_TOKEN"]
        let envToken = rawToken.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        if let rawToken, let envToken, rawToken != envToken {
            StandardError.print("auditlog: warning: AUDITLOG_API_TOKEN has white space around it; it was trimmed")
        }
        guard tokenFile != nil || envToken != nil else {
            guard insecureNoAuth else {
                throw CLIError(message: "no tokens: give --token-file or set AUDITLOG_API_TOKEN (or --insecure-no-auth on a loopback host)", status: ExitStatus.usage)
            }
            guard AuditLogServer.isLoopback(host) else {
                throw CLIError(message: "--insecure-no-auth serves only a loopback host (127.0.0.1, ::1, localhost), not '\(host)'", status: ExitStatus.usage)
            }
            return nil
        }
        var tokens = try tokenFile.map { path in try APITokens.load(file: path) } ?? APITokens()
        if let envToken { tokens.add(token: envToken, scope: .write) }
        return tokens
    }

    /// The retention age: --retention, else AUDITLOG_RETENTION (a duration), else
    /// AUDITLOG_RETENTION_HOURS (whole hours); nil: no sweeps.
    private func retentionNanos() throws -> Int64? {
        if let retention { return TimeExpression.durationNanos(retention) }
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["AUDITLOG_RETENTION"], !text.isEmpty {
            guard let nanos = TimeExpression.durationNanos(text), nanos > 0 else {
                throw CLIError(message: "AUDITLOG_RETENTION '\(text)' is not a duration such as 90d, 12h or 2w", status: ExitStatus.usage)
            }
            return nanos
        }
        if let text = environment["AUDITLOG_RETENTION_HOURS"], !text.isEmpty {
            guard let hours = Int64(text), hours > 0, hours <= 1_000_000 else {
                throw CLIError(message: "AUDITLOG_RETENTION_HOURS '\(text)' is not a whole number of hours (1 or more)", status: ExitStatus.usage)
            }
            return hours * 3_600_000_000_000
        }
        return nil
    }

    /// `90d`, `36h` or `600s`.
    static func describe(nanos: Int64) -> String {
        let second: Int64 = 1_000_000_000
        if nanos % (86_400 * second) == 0 { return "\(nanos / (86_400 * second))d" }
        if nanos % (3_600 * second) == 0 { return "\(nanos / (3_600 * second))h" }
        return "\(nanos / second)s"
    }

    private func serve() async throws {
        let tokens = try tokens()
        if fleet { return try await serveFleet(tokens: tokens) }
        let retentionAge = try retentionNanos()
        // The library's and the services' metrics (swift-metrics) go to a Prometheus registry
        // that /metrics serves; bootstrapped before the log opens, as the library's metrics
        // bind to the factory on first use.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        if retentionAge != nil && readOnly {
            throw CLIError(
                message: "retention (from AUDITLOG_RETENTION or AUDITLOG_RETENTION_HOURS) sweeps, which needs the log open for writing: drop --read-only or unset it", status: ExitStatus.usage)
        }
        var options = AuditLogOptions()
        switch durability {
        case .batch: options.durability = .syncEveryBatch
        case .interval: options.durability = .syncInterval(milliseconds: 100)
        case .none: options.durability = .none
        }
        options.partition = partition == .hour ? .hour : .day
        options.frameEncoding = frameEncoding
        if readOnly { options = .readOnly }
        if let signingKey {
            let key = try EvidenceInputs.read(signingKey, what: "signer key file")
            do {
                options.checkpointSigning = try CheckpointSigning(signerKey: key, interval: .nanoseconds(TimeExpression.durationNanos(checkpointInterval) ?? 10_000_000_000))
            } catch {
                throw CLIError(error)
            }
        }
        options.archive = try log.archive.options(directory: log.directory, writer: readOnly ? nil : archiveWriting)
        let auditLog: AuditLog
        do {
            auditLog = try await AuditLog.open(directory: log.directory, options: options)
        } catch {
            throw CLIError(error)
        }
        let maxBody = Int(ByteSize.parse(maxBodySize) ?? 16 << 20)
        var apiConfiguration = AuditLogAPI.Configuration(tokens: tokens, maxBodyBytes: maxBody)
        apiConfiguration.publicTree = publicTree
        apiConfiguration.recordReads = !noReadAudit
        var serviceLogger = Logger(label: "auditlog")
        serviceLogger.logLevel = .info
        var webhooks: Webhooks?
        if !readOnly {
            var webhookOptions = Webhooks.Options()
            webhookOptions.retryLimit = .nanoseconds(TimeExpression.durationNanos(webhookRetryLimit) ?? 86_400_000_000_000)
            webhookOptions.maxBackoff = .nanoseconds(TimeExpression.durationNanos(webhookMaxBackoff) ?? 30_000_000_000)
            webhooks = Webhooks(log: auditLog, options: webhookOptions, logger: serviceLogger)
        }
        let api = AuditLogAPI(log: auditLog, configuration: apiConfiguration, metrics: APIMetrics(library: registry), webhooks: webhooks)
        if noReadAudit {
            StandardError.print("auditlog: warning: --no-read-audit: reads through the API are not recorded; nobody will be able to tell who read or exported the trail")
        } else if readOnly {
            StandardError.print("auditlog: warning: the log is read-only here, so reads through the API are not recorded (audit.read needs the writer)")
        }
        var services: [any Service] = []
        if let webhooks { services.append(webhooks) }
        if let retentionAge {
            let interval = Duration.nanoseconds(TimeExpression.durationNanos(sweepInterval) ?? 3_600_000_000_000)
            services.append(RetentionService(log: auditLog, policy: RetentionPolicy(maxAgeNanos: retentionAge), interval: interval, actor: "auditlog-serve", logger: serviceLogger))
        }
        var logger = Logger(label: "auditlog.http")
        logger.logLevel = .warning
        let auth = tokens.map { "\($0.count) token(s)" } ?? "none (insecure, loopback only)"
        let directory = log.directory
        let host = self.host
        let signing = options.checkpointSigning
        let console = !noConsole
        let app = AuditLogServer.application(api: api, host: host, port: port, limits: limits, console: console, logger: logger) { boundPort in
            let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            StandardError.print("auditlog: serving '\(directory)' on http://\(shown):\(boundPort) (auth: \(auth))")
            if console { StandardError.print("auditlog: events console at http://\(shown):\(boundPort)/") }
            auditLog.announceServer(url: "http://\(shown == "0.0.0.0" || shown == "[::]" ? "127.0.0.1" : shown):\(boundPort)")
            if let retentionAge {
                StandardError.print("auditlog: retention: sweeping segments older than \(Self.describe(nanos: retentionAge)) every \(sweepInterval)")
            }
            if let signing {
                StandardError.print("auditlog: signing checkpoints every \(signing.interval) when the log grew; verifier key: \(signing.verifierKey)")
            }
        }
        do {
            try await run(app, services: services, logger: logger)
        } catch {
            await api.shutdown()
            try? await auditLog.close()
            throw error
        }
        await api.shutdown()
        do {
            try await auditLog.close()
        } catch {
            throw CLIError(error)
        }
    }

    private var limits: ConnectionLimits {
        ConnectionLimits(
            idleTimeout: .nanoseconds(TimeExpression.durationNanos(idleTimeout) ?? 30_000_000_000),
            headerTimeout: .nanoseconds(TimeExpression.durationNanos(headerTimeout) ?? 10_000_000_000),
            maxConnections: maxConnections)
    }

    /// Runs `app` and `services` until SIGTERM or SIGINT (then at most --shutdown-timeout more).
    private func run(_ app: some Service, services: [any Service] = [], logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(services: [app] + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // After the deadline, requests still open (a client that stopped reading) are cancelled
        // and their connections closed: the server always exits, and releases the log.
        configuration.maximumGracefulShutdownDuration = .nanoseconds(TimeExpression.durationNanos(shutdownTimeout) ?? 10_000_000_000)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch is CancellationError {
            // The shutdown deadline passed: what was still open was cancelled.
        } catch {
            throw CLIError(message: "the server stopped: \(error)", status: ExitStatus.ioError)
        }
    }

    /// `--fleet`: every node's archived log under --archive, read-only, as one.
    private func serveFleet(tokens: APITokens?) async throws {
        guard let archive = try log.archive.options(directory: log.directory) else {
            throw CLIError(message: "--fleet needs --archive s3://BUCKET/PREFIX", status: ExitStatus.usage)
        }
        let fleet: AuditFleet
        do {
            fleet = try await AuditLog.openFleet(archive: archive, directory: log.directory)
        } catch {
            throw CLIError(error)
        }
        var logger = Logger(label: "auditlog.http")
        logger.logLevel = .warning
        let auth = tokens.map { "\($0.count) token(s)" } ?? "none (insecure, loopback only)"
        let host = self.host
        let count = fleet.nodes.count
        let app = AuditLogServer.application(fleet: FleetAPI(fleet: fleet, tokens: tokens), host: host, port: port, limits: limits, logger: logger) { boundPort in
            let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            StandardError.print("auditlog: serving a fleet of \(count) node(s) from \(archive.location.url) on http://\(shown):\(boundPort) (auth: \(auth))")
        }
        try await run(app, logger: logger)
    }
}
