import ArgumentParser
import AuditLog
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum, chain link and summary of the log.",
        discussion: """
            Needs no lock: it can run while another process writes. Exit 0 when intact; exit 1 \
            with every issue listed and the first bad seq and file offset named otherwise. A \
            torn write at the end of the active segment (a write in progress, or one a crash \
            interrupted) and the log.recovered records of torn tails a writer cut are reported \
            but are not issues, unless --strict is given.

            Examples:
              auditlog verify
              auditlog verify --from-seq 900000 --json
              auditlog verify --expect-head 1200:5f0c…e1a9 --strict
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @Option(help: "Start at the segment holding this seq.")
    var fromSeq: UInt64?

    @Flag(help: "Also decode every record.")
    var deep = false

    @Option(
        help: ArgumentHelp(
            "Fail (exit 1) unless the log still holds this seq with this chain value (as /v1/head or an earlier verify printed them), or a retention sweep record explains its removal.",
            valueName: "seq:hex"))
    var expectHead: String?

    @Flag(help: "Also fail (exit 1) on a torn tail or any recorded recovery.")
    var strict = false

    @Option(
        help: ArgumentHelp(
            "A signed checkpoint you kept (a file): also prove the log extends it and that the stored Merkle tree matches the records. Needs --key.",
            valueName: "path"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("The verifier key the checkpoint must be signed with, or a file holding it.", valueName: "key"))
    var key: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if (checkpoint == nil) != (key == nil) { throw ValidationError("--checkpoint and --key go together") }
        if let expectHead, PinnedHead(expectHead) == nil {
            throw ValidationError("--expect-head '\(expectHead.prefix(100))' is not SEQ:HEX (a seq, a colon and the 64 hex digits of its chain value)")
        }
    }

    func run() async throws {
        try await runCLI { try await verify() }
    }

    private func verify() async throws {
        OutputStream.ignoreSIGPIPE()
        let showProgress = StandardError.isTerminal && !json
        let started = Date()
        let options = VerificationOptions(
            fromSeq: fromSeq.map { SequenceNumber($0) }, deep: deep, expectedHead: expectHead.flatMap(PinnedHead.init),
            archive: try log.archive.options(directory: log.directory))
        let report = try await AuditLog.verify(directory: log.directory, options: options) { p in
            guard showProgress else { return }
            let percent = p.bytesTotal > 0 ? Int(Double(p.bytesDone) / Double(p.bytesTotal) * 100) : 100
            StandardError.write("\rverifying: \(percent)% (\(p.segmentsDone)/\(p.segmentsTotal) segments, \(p.recordsDone) records)")
        }
        if showProgress { StandardError.write("\r\u{1B}[K") }
        var tree: TreeAuditReport?
        if let checkpoint, let key {
            let verifier = try EvidenceInputs.verifier(key)
            let note = try EvidenceInputs.note(path: checkpoint)
            tree = try await AuditLog.auditTree(directory: log.directory, checkpoint: note, verifier: verifier)
        }
        let seconds = Date().timeIntervalSince(started)
        let out = OutputStream(fd: 1)
        let failed = (strict ? !report.isPristine : !report.isIntact) || !(tree?.isConsistent ?? true)
        if json {
            var body = report.json(seconds: seconds, strict: strict)
            if let tree, case .object(var members) = body {
                members.append(JSONMember("checkpoint", Self.json(tree)))
                body = .object(members)
            }
            out.write(body.jsonText + "\n")
        } else if report.isIntact {
            let range = report.firstSeq.map { "seq \($0)–\(report.lastSeq ?? $0)" } ?? "no records"
            out.write("\(failed ? "FAILED (strict)" : "OK"): \(report.recordsChecked) records (\(range)) in \(report.segmentsChecked) segments verified in \(String(format: "%.2f", seconds)) s\n")
            out.write("chain head: \(report.chainHead?.hex ?? "-")\n")
            Self.writeNotes(report, to: out)
        } else {
            for issue in report.issues { out.write("\(issue)\n") }
            Self.writeNotes(report, to: out)
            if let first = report.firstIssue {
                let seq = first.seq.map { "seq \($0)" } ?? "unknown seq"
                out.write("FAILED: \(report.issues.count) issue(s); first bad \(seq) in '\(first.file)' at byte offset \(first.offset)\n")
            }
        }
        if let tree, !json { Self.write(tree, to: out) }
        out.flush()
        if failed { throw ExitCode(ExitStatus.integrity) }
    }

    static func write(_ tree: TreeAuditReport, to out: OutputStream) {
        if tree.isConsistent {
            out.write(
                "checkpoint: the log (\(tree.treeSize) entries, root \(tree.root ?? "-")) extends the checkpoint of '\(tree.origin)' at size \(tree.checkpointSize); \(tree.nodesChecked) stored tree nodes match the records\n"
            )
        } else {
            for finding in tree.findings { out.write("checkpoint: \(finding)\n") }
            out.write("FAILED: the log does not match the checkpoint you kept (\(tree.findings.count) finding(s))\n")
        }
    }

    static func json(_ tree: TreeAuditReport) -> JSONValue {
        .object([
            JSONMember("consistent", .bool(tree.isConsistent)),
            JSONMember("origin", .string(tree.origin)),
            JSONMember("checkpoint_size", .integer(tree.checkpointSize)),
            JSONMember("tree_size", .integer(tree.treeSize)),
            JSONMember("root", .string(tree.root)),
            JSONMember("nodes_checked", .integer(tree.nodesChecked)),
            JSONMember("findings", .array(tree.findings.map { .string($0) })),
        ])
    }

    /// The torn tail and the recorded recoveries, one line each.
    static func writeNotes(_ report: VerificationReport, to out: OutputStream) {
        if let pinned = report.pinnedHead {
            switch pinned.status {
            case .matches: out.write("pinned head: seq \(pinned.seq) has the pinned chain value\n")
            case .swept: out.write("pinned head: seq \(pinned.seq) was removed by a recorded retention sweep\n")
            default: break  // an issue says what is wrong
            }
        }
        if let tail = report.tail {
            out.write("torn tail: \(tail.bytes) bytes at the end of '\(tail.file)' (from byte offset \(tail.offset)) are an interrupted write, not verifiable: \(tail.reason)\n")
        }
        for r in report.recoveries {
            let seqs = r.firstSeq.map { first in r.lastSeq.map { "seqs \(first)–\($0)" } ?? "from seq \(first)" } ?? "unknown seqs"
            out.write("recovered: seq \(r.seq) records that a writer cut \(r.bytes) bytes (\(seqs)) at \(r.time.rfc3339); kept in '\(r.file)' (\(r.kept.rawValue)), SHA-256 \(r.sha256)\n")
        }
    }
}
