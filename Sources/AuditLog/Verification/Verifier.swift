/// What to verify.
public struct VerificationOptions: Sendable, Hashable {
    /// Start at the segment holding this seq (trusting that segment's anchor, which is still
    /// checked against its predecessor's footer). Nil: from the oldest segment.
    public var fromSeq: SequenceNumber?
    /// Also decode every record (slower; the chain already proves integrity).
    public var deep = false
    /// Segments checked at once; defaults to the number of cores.
    package var parallelism: Int
    /// A head an auditor pinned earlier (from `/v1/head` or a verify report): the log must
    /// still hold that seq with that chain value, or a retention sweep record must account for
    /// its removal. Verification then covers the segment holding it, whatever ``fromSeq`` says.
    public var expectedHead: PinnedHead?
    /// The archive evicted segments are read from when verifying a directory; nil: the one it
    /// remembers, with credentials from the environment. Archived objects are always read from
    /// the store itself, never from the local cache.
    public var archive: ArchiveOptions?

    public init(
        fromSeq: SequenceNumber? = nil, deep: Bool = false, parallelism: Int? = nil, expectedHead: PinnedHead? = nil, archive: ArchiveOptions? = nil
    ) {
        self.archive = archive
        self.fromSeq = fromSeq
        self.deep = deep
        self.parallelism = max(1, parallelism ?? activeProcessorCount())
        self.expectedHead = expectedHead
    }
}

/// A seq and the chain value after it, as an auditor pins a log's head (`SEQ:HEX`).
public struct PinnedHead: Hashable, Sendable, CustomStringConvertible {
    /// The seq.
    public var seq: SequenceNumber
    /// `h(seq)`.
    public var chainValue: ChainHash

    public init(seq: SequenceNumber, chainValue: ChainHash) {
        self.seq = seq
        self.chainValue = chainValue
    }

    /// Parses `SEQ:HEX` (a positive seq, a colon, 64 hex digits).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = UInt64(parts[0]), seq >= 1, let chain = ChainHash(hex: String(parts[1])) else { return nil }
        self.init(seq: SequenceNumber(seq), chainValue: chain)
    }

    public var description: String { "\(seq):\(chainValue.hex)" }
}

/// Verifies a log directory: each segment on its own (in parallel), then how each segment
/// joins the one before it (dense seqs, anchor equal to the predecessor's chain value, the
/// first anchor equal to the genesis value).
enum Verifier {
    static func run(
        _ directory: LogDirectory, options: VerificationOptions, progress: (@Sendable (VerificationProgress) -> Void)?
    ) async throws(AuditLogError) -> VerificationReport {
        let directory = try archiveAttached(directory, options.archive)
        let manifest = try LogCatalog.readManifest(directory)
        // The sweep, hold and recovery records are read through the indexes, independently of
        // the segment checks: alongside them, not after.
        async let retention = retentionAudit(directory)
        let allNames = try directory.segmentNames()
        var startIndex = 0
        if let from = options.fromSeq {
            // A pinned head before `from` needs its own segment checked too.
            let start = min(from, options.expectedHead?.seq ?? from)
            startIndex = max(0, (allNames.lastIndex { (LogDirectory.firstSeq(ofSegment: $0) ?? SequenceNumber(0)) <= start }) ?? 0)
        }
        let pinned = options.expectedHead
        let names = Array(allNames[startIndex...])
        var totalBytes: Int64 = 0
        for name in names { totalBytes += (try? directory.open(name).size()) ?? 0 }
        let counters = ProgressCounters(VerificationProgress(bytesDone: 0, bytesTotal: totalBytes, recordsDone: 0, segmentsDone: 0, segmentsTotal: names.count))
        let deep = options.deep
        let lastName = allNames.last

        // Check segments concurrently, at most `parallelism` at a time, keeping file order.
        var results = [SegmentVerification?](repeating: nil, count: names.count)
        await withTaskGroup(of: (Int, SegmentVerification).self) { group in
            var next = 0
            func launch() {
                guard next < names.count else { return }
                let index = next
                let name = names[index]
                next += 1
                group.addTask {
                    // Reading and hashing block: they run on a Dispatch queue, not the pool.
                    let result = await BlockingIO.run {
                        var lastRecords: UInt64 = 0
                        return SegmentVerification.check(directory, fileName: name, isLast: name == lastName, deep: deep, capture: pinned?.seq) { bytes, records in
                            let snapshot = counters.value.withLock { p -> VerificationProgress in
                                p.bytesDone += bytes
                                p.recordsDone += records - lastRecords
                                return p
                            }
                            lastRecords = records
                            progress?(snapshot)
                        }
                    }
                    let snapshot = counters.value.withLock { p -> VerificationProgress in
                        p.segmentsDone += 1
                        return p
                    }
                    progress?(snapshot)
                    return (index, result)
                }
            }
            for _ in 0..<options.parallelism { launch() }
            for await (index, result) in group {
                results[index] = result
                launch()
            }
        }

        var report = VerificationReport(issues: [], segmentsChecked: names.count, recordsChecked: 0, recordBytes: 0, fileBytes: 0)
        let genesis = ChainHash.genesis(logID: manifest.logID)
        var previous: SegmentVerification?
        var gaps: [SegmentChain.Gap] = []
        if startIndex > 0 {
            // The predecessor's footer tells where the first checked segment must continue.
            previous = predecessorSummary(directory, fileName: allNames[startIndex - 1])
        }
        for case let segment? in results {
            let display = segment.display
            if let header = segment.header {
                if header.logID != manifest.logID {
                    report.issues.append(VerificationIssue(kind: .structure, message: "segment belongs to another log (id \(header.logID))", file: display, offset: 16, seq: header.firstSeq))
                }
                if header.partitionLengthNanos != manifest.partitionLengthNanos {
                    report.issues.append(
                        VerificationIssue(
                            kind: .structure, message: "segment partition length \(header.partitionLengthNanos) ns differs from the log's \(manifest.partitionLengthNanos) ns", file: display,
                            offset: 48, seq: header.firstSeq))
                }
                // How it joins what precedes it: the first segment (of the log), or one whose
                // predecessor's end is known.
                let before = previous?.end
                if before != nil || (previous == nil && startIndex == 0) {
                    switch SegmentChain.join(before, name: segment.fileName, firstSeq: header.firstSeq, anchor: header.anchor, genesis: genesis) {
                    case .continues: break
                    case .gap(let gap): gaps.append(gap)
                    case .overlaps(let last):
                        report.issues.append(
                            VerificationIssue(
                                kind: .structure, message: "segment starts at seq \(header.firstSeq), overlapping its predecessor which ends at \(last)", file: display, offset: 32,
                                seq: header.firstSeq))
                    case .anchorMismatch:
                        let what = previous.map { "the chain value at the end of '\($0.fileName)'" } ?? "the log's genesis value"
                        report.issues.append(VerificationIssue(kind: .chain, message: "anchor does not match \(what)", file: display, offset: 64, seq: header.firstSeq))
                    }
                }
                if let prev = previous, !prev.sealed {
                    report.issues.append(VerificationIssue(kind: .structure, message: "predecessor '\(prev.fileName)' is not sealed", file: display, offset: 0, seq: header.firstSeq))
                }
                if report.firstSeq == nil, segment.records > 0 { report.firstSeq = header.firstSeq }
            }
            report.issues.append(contentsOf: segment.issues)
            report.recordsChecked += segment.records
            report.recordBytes += segment.recordBytes
            report.fileBytes += segment.fileBytes
            if let next = segment.nextSeq, segment.records > 0 { report.lastSeq = SequenceNumber(next.rawValue - 1) }
            if let chain = segment.chainAfter { report.chainHead = chain }
            if let tail = segment.tail { report.tail = tail }
            previous = segment
        }
        // Every sweep is checked against its claims and the holds in force when it ran; gaps
        // are legitimate only where a retention sweep, recorded in the chain, removed exactly
        // those seqs.
        let (audit, findings, recoveries) = await retention
        // A log whose segments have issues may fail the audit's reads too: that failure is a
        // consequence already reported, not an issue of its own.
        report.issues += report.issues.isEmpty ? findings : findings.filter { $0.kind != .structure }
        report.recoveries = recoveries
        if let pinned { report.pinnedHead = check(pinned, segments: results.compactMap { $0 }, ranges: audit.ranges, report: &report) }
        for r in recoveries where r.kept == .altered {
            report.issues.append(
                VerificationIssue(kind: .recovery, message: "the bytes kept in '\(r.file)' no longer match the SHA-256 its log.recovered record names", file: r.file, offset: 0, seq: r.seq))
        }
        if !gaps.isEmpty {
            let ranges = audit.ranges
            var ends: [SequenceNumber: ChainHash] = [:]
            for case let segment? in results {
                if let next = segment.nextSeq, let chain = segment.chainAfter, segment.records > 0 { ends[SequenceNumber(next.rawValue - 1)] = chain }
            }
            for gap in gaps {
                if SegmentChain.explains(gap, removed: ranges.map(\.removed), chainAfterSegmentEnding: ends) {
                    report.sweptRecords += gap.count
                } else {
                    report.issues.append(
                        VerificationIssue(
                            kind: .missing, message: "seqs \(gap.first)–\(gap.last) are missing and no retention sweep record explains it", file: LogDirectory.displayName(gap.segment), offset: 32,
                            seq: gap.first))
                }
            }
        }
        return report
    }

    /// Whether the log still holds `pinned` (or a sweep record accounts for its removal),
    /// adding an issue to `report` when it does not.
    private static func check(_ pinned: PinnedHead, segments: [SegmentVerification], ranges: [SweptRange], report: inout VerificationReport) -> PinnedHeadCheck {
        var result = PinnedHeadCheck(seq: pinned.seq, expected: pinned.chainValue, found: nil, status: .missing)
        func issue(_ kind: VerificationIssue.Kind, _ message: String, file: String, seq: SequenceNumber?) {
            report.issues.append(VerificationIssue(kind: kind, message: message, file: file, offset: 0, seq: seq))
        }
        if let segment = segments.first(where: { s in
            guard let first = s.header?.firstSeq, let next = s.nextSeq else { return false }
            return first <= pinned.seq && pinned.seq < next
        }) {
            let file = segment.display
            guard let found = segment.captured else {
                result.status = .unreadable
                issue(.structure, "the pinned head seq \(pinned.seq) lies past damage in its segment: its chain value cannot be computed", file: file, seq: pinned.seq)
                return result
            }
            result.found = found
            result.status = found == pinned.chainValue ? .matches : .differs
            if found != pinned.chainValue {
                issue(.chain, "the chain value at seq \(pinned.seq) is \(found.hex), not the pinned \(pinned.chainValue.hex): the log was rewritten at or before that seq", file: file, seq: pinned.seq)
            }
            return result
        }
        let last = report.lastSeq ?? SequenceNumber(0)
        let lastFile = segments.last.map { LogDirectory.displayName($0.fileName) } ?? ""
        if pinned.seq > last {
            issue(.missing, "the log ends at seq \(last), before the pinned head seq \(pinned.seq): records were removed from its end", file: lastFile, seq: last.next)
            return result
        }
        if let r = ranges.first(where: { $0.lastSeq == pinned.seq }) {
            result.found = r.chainAfter
            result.status = r.chainAfter == pinned.chainValue ? .swept : .differs
            if r.chainAfter != pinned.chainValue {
                issue(
                    .chain, "the retention sweep that removed seq \(pinned.seq) recorded chain value \(r.chainAfter.hex) for it, not the pinned \(pinned.chainValue.hex)", file: lastFile,
                    seq: pinned.seq)
            }
        } else if ranges.contains(where: { $0.firstSeq <= pinned.seq && pinned.seq <= $0.lastSeq }) {
            result.status = .swept
        } else {
            issue(.missing, "the pinned head seq \(pinned.seq) is missing and no retention sweep record explains it", file: lastFile, seq: pinned.seq)
        }
        return result
    }

    /// `directory` reading archived objects from the store itself, not the local cache.
    private static func archiveAttached(_ directory: LogDirectory, _ archive: ArchiveOptions?) throws(AuditLogError) -> LogDirectory {
        var directory = directory
        if let remote = directory.remote {
            directory.remote = remote.uncached
        } else if directory.fileSystem.fileExists(directory.manifestPath) {
            var open = AuditLogOptions.readOnly
            open.archive = archive
            if let (_, store) = try AuditLog.resolveArchive(directory, open) { directory.remote = RemoteReads(store: store, cache: nil) }
        }
        return directory
    }

    /// The retention records still in the log (sweeps and holds), and an issue for every
    /// sweep that does not hold up (``RetentionAudit/findings()``).
    /// A log the segment checks found damaged may not open, or may fail a read: that is an
    /// issue of its own (the segment checks say where), and the audit is left out.
    private static func retentionAudit(_ directory: LogDirectory) async -> (RetentionAudit, [VerificationIssue], [RecoveryRecord]) {
        var audit = RetentionAudit()
        let log: AuditLog
        let recoveries: [RecoveryRecord]
        do throws(AuditLogError) {
            log = try await AuditLog.open(files: directory, options: .readOnly)
            recoveries = try await log.recoveryRecords()
            let types: Set<String> = [SweepRecord.eventType, AuditLog.holdPlaced, AuditLog.holdReleased]
            for record in try await log.collect(Query(filter: EventFilter(fields: ["event_type": types]), order: .oldestFirst)) {
                audit.add(record)
            }
        } catch {
            let issue = VerificationIssue(
                kind: .structure, message: "the retention, hold and recovery records could not be read: \(error.message)", file: error.location.file ?? "", offset: error.location.offset ?? 0,
                seq: error.location.seq)
            return (audit, [issue], [])
        }
        var issues: [VerificationIssue] = []
        for finding in audit.findings() {
            let location = try? await log.location(of: finding.seq)
            issues.append(VerificationIssue(kind: .retention, message: finding.message, file: location?.file ?? "", offset: location?.frameOffset ?? 0, seq: finding.seq))
        }
        return (audit, issues, recoveries)
    }

    private static func predecessorSummary(_ directory: LogDirectory, fileName: String) -> SegmentVerification? {
        guard let walker = try? SegmentWalker(directory, fileName), let footer = try? walker.sealedFooter() else { return nil }
        var summary = SegmentVerification(fileName: fileName, display: walker.displayName, header: walker.header)
        summary.nextSeq = SequenceNumber(walker.header.firstSeq.rawValue + footer.recordCount)
        summary.chainAfter = footer.chainAfter
        summary.sealed = true
        return summary
    }
}

/// Progress shared by the concurrent segment checks.
private final class ProgressCounters: Sendable {
    let value: Locked<VerificationProgress>
    init(_ initial: VerificationProgress) { value = Locked(initial) }
}

extension AuditLog {
    /// Verifies every checksum, chain link, anchor and summary of the log (or from the segment
    /// holding `options.fromSeq` on), collecting every issue rather than stopping at the first.
    public func verify(_ options: VerificationOptions = VerificationOptions()) async throws(AuditLogError) -> VerificationReport {
        try await Verifier.run(files, options: options, progress: nil)
    }

    /// ``verify(_:)`` calling `progress` as segments are checked, from any thread (the CLI's
    /// progress line).
    package func verify(_ options: VerificationOptions, progress: @escaping @Sendable (VerificationProgress) -> Void) async throws(AuditLogError) -> VerificationReport {
        try await Verifier.run(files, options: options, progress: progress)
    }

    /// Verifies the log in `directory` without opening it (no lock, no repair): works on a log
    /// being written and on one too damaged to open.
    public static func verify(directory: String, options: VerificationOptions = VerificationOptions()) async throws(AuditLogError) -> VerificationReport {
        try await Verifier.run(LogDirectory(path: directory), options: options, progress: nil)
    }

    /// ``verify(directory:options:)`` calling `progress` as segments are checked.
    package static func verify(directory: String, options: VerificationOptions, progress: @escaping @Sendable (VerificationProgress) -> Void) async throws(AuditLogError) -> VerificationReport {
        try await Verifier.run(LogDirectory(path: directory), options: options, progress: progress)
    }

    /// ``verify(directory:options:)`` on another file system (tests).
    @_spi(Testing)
    public static func verify(
        directory: String, options: VerificationOptions = VerificationOptions(), fileSystem: any FileSystem
    ) async throws(AuditLogError) -> VerificationReport {
        try await Verifier.run(LogDirectory(path: directory, fileSystem: fileSystem), options: options, progress: nil)
    }
}
