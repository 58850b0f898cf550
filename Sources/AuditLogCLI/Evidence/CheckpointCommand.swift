import ArgumentParser
import AuditLog

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a checkpoint of the log's Merkle tree as it is now.",
        discussion: """
            Signs the tree's size and root as a C2SP signed note, stores it in the log \
            (checkpoints/latest and the append-only checkpoints/history) and prints it. \
            Refuses (exit 1) when the tree does not extend the checkpoint signed before. When \
            the log has not grown, prints the latest checkpoint again. Needs the write lock: \
            exit 75 while a server or another writer holds it (a server signs with \
            --signing-key instead).

            Examples:
              auditlog checkpoint --key signer.key > checkpoint.txt
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @Option(help: ArgumentHelp("The signer key file (from auditlog keygen).", valueName: "path"))
    var key: String

    @Option(help: ArgumentHelp("The checkpoint's origin line. Default: the origin of the checkpoints signed before, else the key name.", valueName: "origin"))
    var origin: String?

    func run() async throws {
        try await runCLI { try await checkpoint() }
    }

    private func checkpoint() async throws {
        let signer = try EvidenceInputs.signer(path: key)
        let auditLog = try await log.openWritable()
        do {
            let stored = try await auditLog.signCheckpoint(with: signer, origin: origin)
            try await auditLog.close()
            let out = OutputStream(fd: 1)
            out.write(stored.note.encoded)
            out.flush()
        } catch {
            try? await auditLog.close()
            throw error
        }
    }
}
