import ArgumentParser
import AuditLog
import Foundation

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Append events from NDJSON or a JSON array (creates the log if needed).",
        discussion: """
            Events are appended in batches; each batch is all-or-nothing and durable when \
            acknowledged. NDJSON is parsed on several cores, a batch of lines on each, and \
            committed in input order (a batch also ends at 16 MiB of lines). A bad event \
            stops the ingest: everything before its line is committed, nothing from its \
            line on is written, and the error names the line and field (exit 65). Exit 75 \
            when another process holds the log for writing.

            Examples:
              auditlog gen --count 1000000 --seed 1 | auditlog ingest -
              auditlog ingest --dir /var/lib/audit events.ndjson
              auditlog export --dir /var/lib/old | auditlog ingest --drop-seq -
            """
    )

    enum Durability: String, ExpressibleByArgument, CaseIterable {
        case batch, interval, none
    }

    enum PartitionArgument: String, ExpressibleByArgument, CaseIterable {
        case hour, day
    }

    typealias FrameEncodingArgument = AuditLogOptions.FrameEncoding

    @OptionGroup var log: LogDirectoryOptions

    @OptionGroup(title: "Archive writing") var archiveWriting: ArchiveWriterArguments

    @Argument(help: ArgumentHelp("NDJSON or JSON-array file, or - for standard input.", valueName: "file"))
    var input = "-"

    @Option(help: "Events per append batch.")
    var batchSize = 10_000

    @Option(help: "When appends are synced: batch (each batch, group commit), interval (every 100 ms) or none.")
    var durability: Durability = .batch

    @Option(help: "Partition length for a new log.")
    var partition: PartitionArgument = .day

    @Option(
        help:
            "How new segments store their frames: rows (fastest) or columns (about 40 % fewer bytes, slower appends and whole-frame reads; docs/FORMAT.md). Default: as the log's newest segment, rows for a new log."
    )
    var frameEncoding: FrameEncodingArgument?

    @Flag(help: "Drop each event's seq member instead of refusing it (an export of another log carries the seqs it had there).")
    var dropSeq = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and 100000, got \(batchSize)")
        }
    }

    func run() async throws {
        try await runCLI { try await ingest() }
    }

    private func ingest() async throws {
        OutputStream.ignoreSIGPIPE()
        let fd: Int32
        if input == "-" {
            fd = 0
        } else {
            fd = Foundation.open(input, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw CLIError(message: "cannot open '\(input)': \(String(cString: strerror(errno)))", status: ExitStatus.noInput)
            }
        }
        defer { if fd != 0 { close(fd) } }
        let reader = EventInputReader(fileDescriptor: fd, name: input == "-" ? "standard input" : input, droppingSeq: dropSeq)

        var options = AuditLogOptions()
        options.partition = partition == .hour ? .hour : .day
        options.frameEncoding = frameEncoding
        switch durability {
        case .batch: options.durability = .syncEveryBatch
        case .interval: options.durability = .syncInterval(milliseconds: 100)
        case .none: options.durability = .none
        }
        options.archive = try log.archive.options(directory: log.directory, writer: archiveWriting)
        let auditLog = try await AuditLog.open(directory: log.directory, options: options)
        for report in auditLog.recovery {
            StandardError.print("auditlog: recovered: \(report)")
        }

        let started = Date()
        var committed = Committed()
        var pending: (task: Task<Result<AppendReceipt, AuditLogError>, Never>, events: [AuditEvent], lines: [Int])?
        var failure: (error: AuditLogError, line: Int)?

        // Appends batch k while batch k+1 is parsed; batches commit in input order.
        func settle() async throws(AuditLogError) {
            guard let p = pending else { return }
            pending = nil
            switch await p.task.value {
            case .success(let receipt):
                committed.add(receipt)
            case .failure(let error):
                // An event of the batch refused (it names its index): the ones before it go in.
                guard let index = error.location.index, index < p.lines.count, error.code.isBatchRejection else { throw error }
                // Commit what precedes the bad event, then stop there.
                if index > 0 {
                    committed.add(try await auditLog.append(Array(p.events[0..<index])))
                }
                var located = error
                located.location.index = nil
                located.location.line = p.lines[index]
                failure = (located, p.lines[index])
            }
        }

        // NDJSON: lines are cut here, then parsed and prepared for the writer on other cores,
        // a block a core (at least two, at most eight); the writer commits their events in
        // input order, one batch at a time.
        var parsing: [Task<ParsedBlock, Never>] = []
        let parsers = min(max(2, ProcessInfo.processInfo.activeProcessorCount), 8)
        func takeParsed() async throws(AuditLogError) {
            let block = await parsing.removeFirst().value
            try await settle()
            guard failure == nil else { return }
            if let prepared = block.prepared {
                let task = Task { () -> Result<AppendReceipt, AuditLogError> in
                    switch prepared {
                    case .success(let batch): await Self.append(batch, to: auditLog)
                    case .failure(let error): .failure(error)
                    }
                }
                pending = (task, block.events, block.lines)
            }
            if let error = block.error {
                // The lines before the bad one go in, then the ingest stops there.
                try await settle()
                if failure == nil { failure = (error, error.location.line ?? 0) }
            }
        }

        var batch: [AuditEvent] = []
        var lines: [Int] = []
        do {
            var form: EventInputReader.Form?
            do {
                form = try reader.form()
            } catch {
                failure = (error, error.location.line ?? 0)
            }
            while form == .lines && failure == nil {
                let block: LineBlock?
                do {
                    block = try reader.nextLines(upTo: batchSize)
                } catch {
                    while !parsing.isEmpty && failure == nil { try await takeParsed() }
                    try await settle()
                    if failure == nil { failure = (error, error.location.line ?? 0) }
                    break
                }
                guard let block else { break }
                parsing.append(Task { Self.parse(block, batchSize: batchSize, for: auditLog) })
                if parsing.count >= parsers { try await takeParsed() }
            }
            while !parsing.isEmpty && failure == nil { try await takeParsed() }
            if form == .array { batch.reserveCapacity(batchSize) }
            while form == .array && failure == nil {
                let line: Int?
                do {
                    line = try reader.next(into: &batch)
                } catch {
                    try await settle()
                    if failure == nil {
                        if !batch.isEmpty { committed.add(try await auditLog.append(batch)) }
                        failure = (error, error.location.line ?? 0)
                    }
                    break
                }
                if let line { lines.append(line) }
                if batch.count >= batchSize || (line == nil && !batch.isEmpty) {
                    try await settle()
                    if failure != nil { break }
                    let events = batch
                    let task = Task { await Self.append(events, to: auditLog) }
                    pending = (task, events, lines)
                    batch.removeAll(keepingCapacity: true)
                    lines.removeAll(keepingCapacity: true)
                }
                if line == nil { break }
            }
            try await settle()
        } catch {
            try? await auditLog.close()
            // A full disk or an I/O error: say what is safe, as for a bad line.
            StandardError.print("auditlog: \(committed.sentenceAfterFailure())")
            throw error
        }
        try await auditLog.close()

        let seconds = Date().timeIntervalSince(started)
        if let failure {
            StandardError.print("auditlog: error: \(failure.error.summary)")
            if failure.error.location.field == "seq" {
                StandardError.print("auditlog: hint: pass --drop-seq to ingest events exported from another log")
            }
            StandardError.print("auditlog: \(committed.sentence(before: failure.line))")
            throw ExitCode(ExitStatus.code(for: failure.error))
        }
        let out = OutputStream(fd: 1)
        if json {
            var fields = ["\"ingested\":\(committed.count)"]
            fields.append("\"first_seq\":" + (committed.first.map { String($0.rawValue) } ?? "null"))
            fields.append("\"last_seq\":" + (committed.last.map { String($0.rawValue) } ?? "null"))
            fields.append("\"seconds\":\(String(format: "%.3f", seconds))")
            out.write("{" + fields.joined(separator: ",") + "}\n")
        } else if let first = committed.first, let last = committed.last {
            let rate = seconds > 0 ? Int(Double(committed.count) / seconds) : committed.count
            out.write("ingested \(committed.count) events into \(log.directory): seq \(first)–\(last) (\(String(format: "%.2f", seconds)) s, \(rate) events/s)\n")
        } else {
            out.write("ingested 0 events: the input holds none\n")
        }
        out.flush()
    }

    /// One block's events, their lines and the batch prepared from them; at an error, the
    /// events before it and the error.
    private struct ParsedBlock: Sendable {
        var events: [AuditEvent] = []
        var lines: [Int] = []
        /// Nil when the block holds no event.
        var prepared: Result<PreparedEvents, AuditLogError>?
        var error: AuditLogError?
    }

    private static func parse(_ block: LineBlock, batchSize: Int, for log: AuditLog) -> ParsedBlock {
        var parsed = ParsedBlock()
        parsed.events.reserveCapacity(batchSize)
        do throws(AuditLogError) {
            try block.parse(into: &parsed.events, lines: &parsed.lines)
        } catch {
            parsed.error = error
        }
        if !parsed.events.isEmpty {
            do throws(AuditLogError) {
                parsed.prepared = .success(try log.prepare(parsed.events))
            } catch {
                parsed.prepared = .failure(error)
            }
        }
        return parsed
    }

    private static func append(_ batch: PreparedEvents, to log: AuditLog) async -> Result<AppendReceipt, AuditLogError> {
        do throws(AuditLogError) {
            return .success(try await log.append(batch))
        } catch {
            return .failure(error)
        }
    }

    private static func append(_ events: [AuditEvent], to log: AuditLog) async -> Result<AppendReceipt, AuditLogError> {
        do throws(AuditLogError) {
            return .success(try await log.append(events))
        } catch {
            return .failure(error)
        }
    }
}

/// What an ingest has committed so far.
private struct Committed {
    var count = 0
    var first: SequenceNumber?
    var last: SequenceNumber?

    mutating func add(_ receipt: AppendReceipt) {
        count += receipt.count
        if first == nil { first = receipt.firstSeq }
        last = receipt.lastSeq
    }

    func sentenceAfterFailure() -> String {
        guard let first, let last else { return "nothing was written" }
        return "committed \(count) events (seq \(first)–\(last)) before the failure; nothing after seq \(last) was written"
    }

    func sentence(before line: Int) -> String {
        guard let first, let last else {
            return "nothing was written (line \(line) and everything after it were not committed)"
        }
        return "committed \(count) events from before line \(line) (seq \(first)–\(last)); nothing from line \(line) on was written"
    }
}

extension AuditLogOptions.FrameEncoding: ExpressibleByArgument {}
