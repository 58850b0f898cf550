import ArgumentParser
import AuditLog
import Foundation

struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an Ed25519 key that signs checkpoints.",
        discussion: """
            Writes the signer key to --private (mode 0600; an existing file is never \
            overwritten: exit 73) as PRIVATE+KEY+<name>+<key id>+<key>, the format of Go's \
            golang.org/x/mod/sumdb/note, and prints the verifier key <name>+<key id>+<key> — \
            the one to give auditors and witnesses.

            Examples:
              auditlog keygen --name gateway.example.com/audit --private signer.key > verifier.key
            """
    )

    @Option(help: ArgumentHelp("The key's name (also the checkpoints' default origin): no '+', spaces or control characters.", valueName: "name"))
    var name: String

    @Option(name: .customLong("private"), help: ArgumentHelp("Where to write the signer key.", valueName: "path"))
    var privatePath: String

    func run() async throws {
        try await runCLI { try keygen() }
    }

    private func keygen() throws {
        let signer: NoteSigner
        do { signer = try NoteSigner(generatingFor: name) } catch { throw CLIError(error) }
        let fd = open(privatePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "it exists (a key is never overwritten)" : String(cString: strerror(errno))
            throw CLIError(message: "cannot create '\(privatePath)': \(reason)", status: ExitStatus.cantCreate)
        }
        let bytes = Array(signer.text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(privatePath)
                throw CLIError(message: "writing '\(privatePath)' failed: \(String(cString: strerror(errno)))", status: ExitStatus.ioError)
            }
            done += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else {
            unlink(privatePath)
            throw CLIError(message: "syncing '\(privatePath)' failed: \(String(cString: strerror(errno)))", status: ExitStatus.ioError)
        }
        let out = OutputStream(fd: 1)
        out.write(signer.verifier.text + "\n")
        out.flush()
    }
}
