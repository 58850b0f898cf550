/// What was repaired when a log was opened for writing.
public struct RecoveryReport: Hashable, Sendable, CustomStringConvertible {
    /// The segment whose tail was cut, relative to the log directory.
    public var file: String
    /// Where the cut was made (the end of the last complete frame).
    public var offset: Int64
    /// Bytes removed.
    public var bytesRemoved: Int64
    /// Why they were incomplete.
    public var reason: String
    /// The seq the cut bytes would have started at (nil for a segment file whose header never
    /// completed: it held no records).
    public var firstSeq: SequenceNumber?
    /// The last seq they would have held, when their frame header was complete.
    public var lastSeq: SequenceNumber?
    /// The file keeping the cut bytes, relative to the log directory (nil when nothing was
    /// kept: a header that never completed holds no records).
    public var keptFile: String?
    /// SHA-256 of the cut bytes, lowercase hex.
    public var sha256: String?

    public var description: String {
        let kept = keptFile.map { "; kept in '\($0)'" } ?? ""
        return "cut \(bytesRemoved) bytes of an incomplete final frame from '\(file)' at byte offset \(offset) (\(reason))\(kept)"
    }
}

/// The segments of a log directory as found on disk: sealed segments from their headers and
/// footers, the last one (if not sealed) from a scan of its frames.
struct LogCatalog {
    var manifest: LogManifest
    var segments: [SegmentInfo]
    /// The partition of the last segment (to decide when the next event rolls).
    var lastHeader: SegmentHeader?
    var recovery: [RecoveryReport] = []

    var genesis: ChainHash { ChainHash.genesis(logID: manifest.logID) }
    var nextSeq: SequenceNumber { segments.last?.nextSeq ?? SequenceNumber(1) }
    var chainHead: ChainHash { segments.last?.chainAfter ?? genesis }

    static func readManifest(_ paths: LogPaths) throws(AuditLogError) -> LogManifest {
        guard SystemFile.fileExists(paths.manifest) else {
            throw AuditLogError(.noLog, "no log in '\(paths.directory)' (no \(LogManifest.fileName))", location: .init(file: paths.directory))
        }
        let file = try SystemFile.openForReading(paths.manifest, displayName: LogManifest.fileName)
        var buffer = [UInt8]()
        let n = try file.read(into: &buffer, count: LogManifest.byteCount + 1, at: 0)
        do throws(FormatError) {
            return try buffer.withRawBytes { (raw) throws(FormatError) in
                try LogManifest.decode(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
            }
        } catch {
            throw AuditLogError(error, file: LogManifest.fileName, baseOffset: 0)
        }
    }

    /// Creates the directory, manifest and `segments/` for a new log.
    static func create(_ paths: LogPaths, partitionLengthNanos: Int64) throws(AuditLogError) -> LogManifest {
        try SystemFile.makeDirectory(paths.directory)
        try SystemFile.makeDirectory(paths.segmentsDirectory)
        let manifest = LogManifest(logID: .random(), partitionLengthNanos: partitionLengthNanos, createdAtNanos: Timestamp.now.nanosSinceEpoch)
        try SystemFile.writeAtomically(manifest.encoded(), to: paths.manifest, directory: paths.directory, displayName: LogManifest.fileName)
        return manifest
    }

    /// Segment file names in seq order.
    static func segmentFileNames(_ paths: LogPaths) throws(AuditLogError) -> [String] {
        guard SystemFile.isDirectory(paths.segmentsDirectory) else { return [] }
        return try SystemFile.listDirectory(paths.segmentsDirectory)
            .filter { LogPaths.firstSeq(ofSegmentFileName: $0) != nil }
            .sorted()
    }

    /// Loads the catalog. With `repair`, an incomplete tail of the last segment is cut off
    /// (and reported) and an unfinished new segment file is removed; without, both are simply
    /// where the visible log ends.
    ///
    /// `previous` (a read-only handle refreshing) lets sealed segments it already knows be
    /// reused and the active one be scanned on from where it stopped.
    static func load(_ paths: LogPaths, repair: Bool, previous: [SegmentInfo] = []) throws(AuditLogError) -> LogCatalog {
        let known = Dictionary(previous.map { ($0.fileName, $0) }, uniquingKeysWith: { a, _ in a })
        let manifest = try readManifest(paths)
        var catalog = LogCatalog(manifest: manifest, segments: [])
        var names = try segmentFileNames(paths)

        // A segment file whose header never completed (a crash while rolling) holds nothing.
        if let last = names.last {
            let path = paths.segmentPath(last)
            let file = try SystemFile.openForReading(path, displayName: LogPaths.displayName(last))
            if try file.size() < Int64(SegmentHeader.byteCount) {
                names.removeLast()
                if repair {
                    try SystemFile.remove(path)
                    try SystemFile.syncDirectory(paths.segmentsDirectory)
                    catalog.recovery.append(RecoveryReport(file: LogPaths.displayName(last), offset: 0, bytesRemoved: try file.size(), reason: "segment header never completed"))
                }
            }
        }

        for (i, name) in names.enumerated() {
            let isLast = i == names.count - 1
            do throws(AuditLogError) {
                try catalog.add(name, paths: paths, isLast: isLast, repair: repair, known: known)
            } catch {
                // A reader keeps going past a damaged sealed segment: queries that reach it
                // fail naming it, the rest of the log stays readable. A writer stops.
                guard !repair, error.code == .corruption else { throw error }
                catalog.segments.append(SegmentInfo(damaged: name, reason: error.message, after: catalog.segments.last))
            }
        }
        catalog.boundDamagedSegments()
        return catalog
    }

    /// Adds segment `name`: sealed from its header and footer, the last from a scan.
    private mutating func add(_ name: String, paths: LogPaths, isLast: Bool, repair: Bool, known: [String: SegmentInfo]) throws(AuditLogError) {
        let reader = try SegmentReader(paths: paths, fileName: name)
        let header = reader.header
        let size = reader.limit
        let display = reader.displayName
        guard header.logID == manifest.logID else {
            throw AuditLogError(.corruption, "segment belongs to another log (id \(header.logID))", location: .init(file: display, offset: 16))
        }
        guard header.partitionLengthNanos == manifest.partitionLengthNanos else {
            throw AuditLogError(.corruption, "segment partition length \(header.partitionLengthNanos) ns differs from the log's \(manifest.partitionLengthNanos) ns", location: .init(file: display, offset: 48, seq: header.firstSeq))
        }
        guard LogPaths.firstSeq(ofSegmentFileName: name) == header.firstSeq else {
            throw AuditLogError(.corruption, "file name says seq \(name.prefix(20)), header says \(header.firstSeq)", location: .init(file: display, offset: 32, seq: header.firstSeq))
        }
        if let previous = segments.last, previous.damage == nil {
            // A gap is what a retention sweep leaves (`verify` checks that a sweep record
            // explains it); an overlap is never valid.
            guard header.firstSeq >= previous.nextSeq else {
                throw AuditLogError(.corruption, "segment starts at seq \(header.firstSeq), inside its predecessor (which ends at \(previous.nextSeq.rawValue - 1))", location: .init(file: display, offset: 32, seq: header.firstSeq))
            }
            guard header.firstSeq > previous.nextSeq || header.anchor == previous.chainAfter else {
                throw AuditLogError(.corruption, "segment anchor does not match the chain value at the end of '\(previous.fileName)'", location: .init(file: display, offset: 64, seq: header.firstSeq))
            }
        } else if header.firstSeq == SequenceNumber(1), header.anchor != genesis {
            throw AuditLogError(.corruption, "first segment's anchor is not the log's genesis value", location: .init(file: display, offset: 64, seq: header.firstSeq))
        }
        if let sealed = known[name], sealed.isSealed, sealed.bytes == size {
            segments.append(sealed)
        } else if let footer = try reader.readFooter(fileSize: size) {
            guard footer.recordCount == 0 || footer.firstSeq == header.firstSeq else {
                throw AuditLogError(.corruption, "footer first seq \(footer.firstSeq) differs from header \(header.firstSeq)", location: .init(file: display, offset: size - Int64(SegmentFooter.byteCount), seq: header.firstSeq))
            }
            segments.append(SegmentInfo(fileName: name, header: header, footer: footer, fileSize: size))
        } else if isLast {
            // A reader resumes after the writer's last checkpoint (those frames were checked
            // when it was written; a query checks every frame it reads) and reads only what
            // was appended since. A writer checks every frame before it appends.
            let start = known[name] == nil && !repair ? ActiveIndexCheckpoint.resumePoint(reader, fileName: name, paths: paths) : nil
            var scan = try ActiveSegmentScan.scan(reader, resuming: known[name], from: start)
            if let torn = scan.tornTail, repair {
                try TornTailRecovery.refuseIfCommitted(segment: name, torn: torn.offset, paths: paths, display: display, nextSeq: SequenceNumber(header.firstSeq.rawValue + scan.recordCount))
                recovery.append(try TornTailRecovery.cut(
                    segment: name, reader: reader, at: torn.offset, reason: torn.reason,
                    firstSeq: SequenceNumber(header.firstSeq.rawValue + scan.recordCount), paths: paths))
                scan.tornTail = nil
            }
            if let footer = scan.footer {
                segments.append(SegmentInfo(fileName: name, header: header, footer: footer, fileSize: scan.dataEnd + Int64(SegmentFooter.byteCount)))
            } else {
                segments.append(SegmentInfo(fileName: name, header: header, scan: scan))
            }
        } else {
            throw AuditLogError(.corruption, "segment has no valid footer but is not the last segment", location: .init(file: display, offset: size, seq: header.firstSeq))
        }
        lastHeader = header
    }

    /// Gives each damaged segment the seqs up to the next segment's and, as its time range, the
    /// span of its neighbours (its own is unknown): a query whose window reaches it fails.
    private mutating func boundDamagedSegments() {
        for i in segments.indices where segments[i].damage != nil {
            let next = segments.indices.contains(i + 1) ? segments[i + 1] : nil
            if let next { segments[i].recordCount = next.firstSeq.rawValue - segments[i].firstSeq.rawValue }
            segments[i].minTimestamp = (i > 0 ? segments[i - 1].minTimestamp : nil) ?? Timestamp(nanosSinceEpoch: .min)
            segments[i].maxTimestamp = next?.maxTimestamp ?? Timestamp(nanosSinceEpoch: .max)
            if let next { segments[i].chainAfter = next.anchor }
        }
    }
}
