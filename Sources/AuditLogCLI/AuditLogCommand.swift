import ArgumentParser
import AuditLog

@main
struct AuditLogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auditlog",
        abstract: "Store, query and verify the audit trail of an AI gateway.",
        discussion: """
            A log is a directory of hash-chained, checksummed segment files. Every command \
            takes --dir (default: $AUDITLOG_DIR, else ./auditlog-data).

            Exit codes: 0 success (also when nothing matches), 1 integrity failure, 64 usage \
            error, 65 bad input data, 66 no log found, 69 archive unavailable, 73 cannot create a file (keygen never \
            overwrites), 74 I/O error, 75 another process holds the log for writing.
            """,
        subcommands: [
            TailCommand.self, ExportCommand.self, UsageCommand.self, ShowCommand.self, SegmentsCommand.self,
            IngestCommand.self, VerifyCommand.self, SweepCommand.self, HoldCommand.self, WebhookCommand.self, GenCommand.self, ServeCommand.self,
            KeygenCommand.self, CheckpointCommand.self, ProveCommand.self, CheckProofCommand.self,
        ]
    )
}
