import ArgumentParser
import AuditLog
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum, chain link and summary of the log.",
        discussion: """
            Needs no lock: it can run while another process writes. Exit 0 when intact; exit 1 \
            with every issue listed and the first bad seq and file offset named otherwise.

            Examples:
              auditlog verify
              auditlog verify --from-seq 900000 --json
            """
    )

    @OptionGroup var log: LogDirectoryOptions

    @Option(help: "Start at the segment holding this seq.")
    var fromSeq: UInt64?

    @Flag(help: "Also decode every record.")
    var deep = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        try await runCLI { try await verify() }
    }

    private func verify() async throws {
        OutputStream.ignoreSIGPIPE()
        let showProgress = StandardError.isTerminal && !json
        let started = Date()
        let options = VerificationOptions(fromSeq: fromSeq.map { SequenceNumber($0) }, deep: deep)
        let report = try await AuditLog.verify(directory: log.directory, options: options) { p in
            guard showProgress else { return }
            let percent = p.bytesTotal > 0 ? Int(Double(p.bytesDone) / Double(p.bytesTotal) * 100) : 100
            StandardError.write("\rverifying: \(percent)% (\(p.segmentsDone)/\(p.segmentsTotal) segments, \(p.recordsDone) records)")
        }
        if showProgress { StandardError.write("\r\u{1B}[K") }
        let seconds = Date().timeIntervalSince(started)
        let out = OutputStream(fd: 1)
        if json {
            out.write(report.json(seconds: seconds).jsonText + "\n")
        } else if report.isIntact {
            let range = report.firstSeq.map { "seq \($0)–\(report.lastSeq ?? $0)" } ?? "no records"
            out.write("OK: \(report.recordsChecked) records (\(range)) in \(report.segmentsChecked) segments verified in \(String(format: "%.2f", seconds)) s\n")
            out.write("chain head: \(report.chainHead?.hex ?? "-")\n")
            if let tail = report.unverifiedTail {
                out.write("note: \(tail.bytes) bytes at the end of '\(tail.file)' (from byte offset \(tail.offset)) are an incomplete write, not yet verifiable\n")
            }
        } else {
            for issue in report.issues { out.write("\(issue)\n") }
            if let first = report.firstIssue {
                let seq = first.seq.map { "seq \($0)" } ?? "unknown seq"
                out.write("FAILED: \(report.issues.count) issue(s); first bad \(seq) in '\(first.file)' at byte offset \(first.offset)\n")
            }
        }
        out.flush()
        if !report.isIntact { throw ExitCode(ExitStatus.integrity) }
    }
}
