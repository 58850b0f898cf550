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
    /// holds it). `route`: the HTTP request that does the same on a server holding the log
    /// (`POST /v1/sweep`), named in the one line that says who holds it.
    func openWritable(route: String? = nil) async throws -> AuditLog {
        var options = AuditLogOptions()
        options.createIfMissing = false
        options.archive = try archive.options(directory: directory)
        do {
            return try await AuditLog.open(directory: directory, options: options)
        } catch  where error.code == .locked {
            throw Self.heldMessage(directory: directory, route: route) ?? CLIError(error)
        } catch {
            throw CLIError(error)
        }
    }

    /// "The log is held by a server": its pid and URL, and what to do instead (exit 75).
    static func heldMessage(directory: String, route: String?) -> CLIError? {
        guard let holder = LogWriterHolder.read(directory: directory) else { return nil }
        let pid = holder.pid.map { "pid \($0)" } ?? "pid unknown"
        guard let url = holder.url else {
            return CLIError(message: "another process holds the log for writing (\(pid); lock file '\(directory)/LOCK'); try again when it has stopped", status: ExitStatus.tempFail)
        }
        let instead = route.map { "use \($0) on it, or run this command again with --server \(url) (token in AUDITLOG_API_TOKEN)" } ?? "try again when it has stopped"
        return CLIError(message: "another process holds the log: auditlog serve (\(pid), \(url)); \(instead)", status: ExitStatus.tempFail)
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
