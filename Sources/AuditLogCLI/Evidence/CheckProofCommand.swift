import ArgumentParser
import AuditLog

struct CheckProofCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-proof",
        abstract: "Check a proof bundle or an export with proofs, without the log.",
        discussion: """
            Checks the checkpoint's signature with the verifier key, every inclusion proof \
            against the signed root, and that every event is exactly what its entry decodes \
            to; a consistency bundle is checked against the older checkpoint you kept \
            (--checkpoint). Exit 0 when valid, 1 when not (naming the first bad line or \
            field), 64 for a bad key.

            Examples:
              auditlog check-proof evt_abc123.proof.json --key verifier.key
              auditlog check-proof blocked.ndjson --key 'gateway.example.com/audit+1a2b3c4d+AXq…'
              auditlog check-proof consistency.json --key verifier.key --checkpoint kept-checkpoint.txt
            """
    )

    @Argument(help: ArgumentHelp("The bundle or export file (- for standard input).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The verifier key, or a file holding it.", valueName: "key"))
    var key: String

    @Option(help: ArgumentHelp("The older signed checkpoint a consistency proof starts from (a file).", valueName: "path"))
    var checkpoint: String?

    func run() async throws {
        try await runCLI { try check() }
    }

    private func check() throws {
        let verifier = try EvidenceInputs.verifier(key)
        let old = try checkpoint.map { try EvidenceInputs.note(path: $0) }
        let text = try EvidenceInputs.read(file, what: "proof file", limit: 1 << 34)
        let out = OutputStream(fd: 1)
        do {
            let summary = try ProofCheck.check(text, verifier: verifier, old: old)
            switch summary.kind {
            case .inclusion:
                out.write("OK: the entry is in the log '\(summary.origin)' of \(summary.treeSize) entries, signed by \(verifier.name)\n")
            case .export:
                out.write("OK: \(summary.entries) event(s) are in the log '\(summary.origin)' of \(summary.treeSize) entries, signed by \(verifier.name)\n")
            case .consistency:
                out.write("OK: the log '\(summary.origin)' of \(summary.treeSize) entries extends the one of \(summary.oldSize ?? 0), both signed by \(verifier.name)\n")
            }
            out.flush()
        } catch  where error.code == .invalidArgument {
            throw CLIError(error)
        } catch {
            out.write("INVALID: \(error.summary)\n")
            out.flush()
            throw ExitCode(ExitStatus.integrity)
        }
    }
}
