import ArgumentParser
import AuditLog
import Foundation

/// `--dir`, shared by every command.
struct LogDirectoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The log directory.", discussion: "Default: $AUDITLOG_DIR, else ./auditlog-data.", valueName: "path"))
    var dir: String?

    @OptionGroup(title: "Archive") var archive: ArchiveArguments

    var directory: String {
        if let dir { return dir }
        if let env = ProcessInfo.processInfo.environment["AUDITLOG_DIR"], !env.isEmpty { return env }
        return "./auditlog-data"
    }

    /// Opens an existing log for writing (never creates one; exit 75 when another process
    /// holds it).
    func openWritable() async throws -> AuditLog {
        var options = AuditLogOptions()
        options.createIfMissing = false
        options.archive = try archive.options(directory: directory)
        do {
            return try await AuditLog.open(directory: directory, options: options)
        } catch {
            throw CLIError(error)
        }
    }

    /// Opens an existing log read-only (never creates one).
    func openReadOnly() async throws -> AuditLog {
        var options = AuditLogOptions.readOnly
        options.archive = try archive.options(directory: directory)
        do {
            return try await AuditLog.open(directory: directory, options: options)
        } catch {
            throw CLIError(error)
        }
    }
}
