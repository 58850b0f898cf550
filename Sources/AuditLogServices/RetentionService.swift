import AuditLog
import Logging
import Metrics
import ServiceLifecycle

/// Runs retention sweeps on an interval for an application that embeds the log, as a
/// swift-service-lifecycle `Service` (add it to the application's `ServiceGroup`).
///
/// ```swift
/// let retention = RetentionService(log: log, policy: .days(90), interval: .seconds(3600))
/// let group = ServiceGroup(services: [server, retention], logger: logger)
/// try await group.run()
/// ```
///
/// A failed sweep is logged and tried again at the next interval; the service stops on
/// cancellation or graceful shutdown.
public struct RetentionService: Service {
    /// The log to sweep (opened for writing).
    public let log: AuditLog
    /// What to keep.
    public let policy: RetentionPolicy
    /// Time between sweeps.
    public let interval: Duration
    /// Recorded as the user of each `retention.sweep` record.
    public let actor: String
    /// Where sweeps are reported.
    public let logger: Logger

    /// A service sweeping `log` by `policy` every `interval`.
    public init(log: AuditLog, policy: RetentionPolicy, interval: Duration = .seconds(3600), actor: String = "retention-service", logger: Logger = Logger(label: "auditlog.retention")) {
        self.log = log
        self.policy = policy
        self.interval = interval
        self.actor = actor
        self.logger = logger
    }

    /// Sweeps now, then every ``interval``, until cancelled or shut down gracefully.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweepOnce()
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }

    /// One sweep, logged.
    func sweepOnce() async {
        do {
            let report = try await log.sweep(policy, actor: actor)
            if report.segments.isEmpty {
                logger.debug("retention sweep: nothing to delete", metadata: ["held": "\(report.heldSegments.count)"])
            } else {
                logger.info(
                    "retention sweep deleted segments",
                    metadata: [
                        "segments": "\(report.segments.count)", "records": "\(report.recordsRemoved)",
                        "bytes": "\(report.bytesFreed)", "record_seq": "\(report.recordSeq.map { String($0.rawValue) } ?? "-")",
                        "held": "\(report.heldSegments.count)",
                    ])
            }
        } catch {
            logger.error("retention sweep failed", metadata: ["error": "\(error.summary)"])
            Counter(label: "auditlog_retention_sweep_failures_total").increment()
        }
    }
}
