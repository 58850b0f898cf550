import ArgumentParser
import AuditLog

/// Exit codes (sysexits.h), documented in `auditlog --help` and docs/CLI.md.
enum ExitStatus {
    static let integrity: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let ioError: Int32 = 74
    static let cantCreate: Int32 = 73
    static let tempFail: Int32 = 75
    static let unavailable: Int32 = 69
    static let noPermission: Int32 = 77

    static func code(for error: AuditLogError) -> Int32 {
        switch error.code {
        case .invalidEvent, .duplicateID, .limitExceeded, .unsupportedVersion: dataError
        case .corruption: integrity
        case .noLog: noInput
        case .locked: tempFail
        case .archive: unavailable
        case .invalidArgument: usage
        default: ioError
        }
    }
}

/// An error printed as one clear line on stderr, exiting with the mapped status.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var status: Int32

    init(_ error: AuditLogError) {
        message = error.summary
        if let cause = error.cause { message += " (\(cause))" }
        status = ExitStatus.code(for: error)
    }

    init(message: String, status: Int32) {
        self.message = message
        self.status = status
    }

    init(_ error: any Error) {
        if let e = error as? AuditLogError {
            self.init(e)
        } else if let e = error as? CLIError {
            self = e
        } else {
            self.init(message: "\(error)", status: ExitStatus.ioError)
        }
    }

    var description: String { message }
}

/// Runs a command body, turning errors into a message on stderr and an exit code.
func runCLI(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let e = CLIError(error)
        StandardError.print("auditlog: error: \(e.message)")
        throw ExitCode(e.status)
    }
}
