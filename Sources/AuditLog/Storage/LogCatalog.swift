/// What was repaired when a log was opened for writing.
package struct RecoveryReport: Hashable, Sendable, CustomStringConvertible {
    /// The segment whose tail was cut, relative to the log directory.
    package var file: String
    /// Where the cut was made (the end of the last complete frame).
    package var offset: Int64
    /// Bytes removed.
    package var bytesRemoved: Int64
    /// Why they were incomplete.
    package var reason: String
    /// The seq the cut bytes would have started at (nil for a segment file whose header never
    /// completed: it held no records).
    package var firstSeq: SequenceNumber?
    /// The last seq they would have held, when their frame header was complete.
    package var lastSeq: SequenceNumber?
    /// The file keeping the cut bytes, relative to the log directory (nil when nothing was
    /// kept: a header that never completed holds no records).
    package var keptFile: String?
    /// SHA-256 of the cut bytes, lowercase hex.
    package var sha256: String?

    package var description: String {
        let kept = keptFile.map { "; kept in '\($0)'" } ?? ""
        return "cut \(bytesRemoved) bytes of an incomplete final frame from '\(file)' at byte offset \(offset) (\(reason))\(kept)"
    }
}

/// The segments of a log directory as found on disk: sealed segments from their headers and
/// footers, the last one (if not sealed) from a walk of its frames, each joined to the one
/// before it by ``SegmentChain``.
struct LogCatalog {
    let manifest: LogManifest
    /// The chain value before the log's first record. Computed once: the catalog joins every
    /// segment to the one before it, and a SHA-256 for each join was most of the joins' time.
    let genesis: ChainHash
    var segments: [SegmentInfo] = []
    /// The partition of the last segment (to decide when the next event rolls).
    var lastHeader: SegmentHeader?
    var recovery: [RecoveryReport] = []

    init(manifest: LogManifest) {
        self.manifest = manifest
        self.genesis = ChainHash.genesis(logID: manifest.logID)
    }

    var nextSeq: SequenceNumber { segments.last?.nextSeq ?? SequenceNumber(1) }
    var chainHead: ChainHash { segments.last?.chainAfter ?? genesis }

    static func readManifest(_ directory: LogDirectory) throws(AuditLogError) -> LogManifest {
        let fs = directory.fileSystem
        guard let file = try fs.openForReadingIfPresent(directory.manifestPath, displayName: LogManifest.fileName) else {
            throw AuditLogError(.noLog, "no log in '\(directory.path)' (no \(LogManifest.fileName))", location: .init(file: directory.path))
        }
        let bytes = try file.readAll()
        do throws(FormatError) {
            return try bytes.withRawBytes { (raw) throws(FormatError) in try LogManifest.decode(raw) }
        } catch {
            throw AuditLogError(error, file: LogManifest.fileName, baseOffset: 0)
        }
    }

    /// Creates the directory, manifest and `segments/` for a new log.
    static func create(_ directory: LogDirectory, partitionLengthNanos: Int64) throws(AuditLogError) -> LogManifest {
        try directory.create()
        let manifest = LogManifest(logID: .random(), partitionLengthNanos: partitionLengthNanos, createdAtNanos: Timestamp.now.nanosSinceEpoch)
        try directory.fileSystem.writeAtomically(manifest.encoded(), to: directory.manifestPath, directory: directory.path, displayName: LogManifest.fileName)
        return manifest
    }

    /// Loads the catalog. With `repair` (a writer), a torn tail of the last segment is cut off
    /// (kept and reported) and an unfinished new segment file is removed; without (a reader),
    /// both are simply where the visible log ends, and a damaged segment is listed as such.
    ///
    /// `previous` (a reader refreshing) lets sealed segments it already knows be reused and the
    /// active one be walked on from where it stopped; `observer` may say where a fresh walk of
    /// the active segment can start, and vouches for committed bytes a writer must not cut.
    static func load(_ directory: LogDirectory, repair: Bool, previous: [SegmentInfo] = [], observer: (any StorageObserver)? = nil) throws(AuditLogError) -> LogCatalog {
        let known = Dictionary(previous.map { ($0.fileName, $0) }, uniquingKeysWith: { a, _ in a })
        let manifest = try readManifest(directory)
        var catalog = LogCatalog(manifest: manifest)
        var names = try directory.segmentNames()
        // A reader checks the sealed segments' sizes against the catalog below: every file's in
        // one call (a stat each, no open), the newest's among them.
        let sizes = repair ? [] : directory.segmentFileSizes(names)

        // A segment file whose header never completed (a crash while rolling) holds nothing.
        if let last = names.last {
            let size: Int64
            if let known = repair ? directory.fileSystem.fileSize(directory.segmentPath(last)) : sizes.last ?? nil {
                size = known
            } else {
                size = try directory.open(last).size()
            }
            if size < Int64(SegmentHeader.byteCount) {
                names.removeLast()
                if repair {
                    try directory.removeSegment(last)
                    try directory.syncSegments()
                    catalog.recovery.append(RecoveryReport(file: LogDirectory.displayName(last), offset: 0, bytesRemoved: size, reason: "segment header never completed"))
                }
            }
        }

        // A sealed segment a refreshing reader knows, or one the catalog lists, whose file has
        // the size it had then, needs no read of its own. A writer reads every header and
        // footer (it refuses a segment that breaks a rule before appending after it). The
        // newest segment is always read from its file: it is the one that may be active, or
        // unsealed again by a writer's rollback.
        let needsCatalog = !repair && names.dropLast().contains { known[$0]?.isSealed != true }
        let catalogued = needsCatalog ? Self.catalogEntries(directory, manifest: manifest) : [:]
        for (i, name) in names.enumerated() {
            let isLast = i == names.count - 1
            do throws(AuditLogError) {
                if !isLast, !repair, let info = Self.sealed(known[name]) ?? Self.entry(catalogued, name).map({ SegmentInfo(catalogued: $0, fileName: name) }),
                    sizes[i] == info.bytes
                {
                    try catalog.join(name, firstSeq: info.firstSeq, anchor: info.anchor)
                    catalog.segments.append(info)
                } else {
                    try catalog.add(name, directory: directory, isLast: isLast, repair: repair, known: known, observer: observer)
                }
            } catch {
                // A reader keeps going past a damaged segment: queries that reach it fail
                // naming it, the rest of the log stays readable. A writer stops.
                guard !repair, error.code == .corruption else { throw error }
                catalog.segments.append(SegmentInfo(damaged: name, SegmentDamage(error), after: catalog.segments.last))
            }
        }
        catalog.boundDamagedSegments()
        return catalog
    }

    /// Adds segment `name`: sealed from its header and footer, the last from a walk.
    private mutating func add(_ name: String, directory: LogDirectory, isLast: Bool, repair: Bool, known: [String: SegmentInfo], observer: (any StorageObserver)?) throws(AuditLogError) {
        let walker = try SegmentWalker(directory, name, mayEndTorn: isLast)
        let header = walker.header
        let display = walker.displayName
        guard header.logID == manifest.logID else {
            throw AuditLogError(.corruption, "segment belongs to another log (id \(header.logID))", location: .init(file: display, offset: 16))
        }
        guard header.partitionLengthNanos == manifest.partitionLengthNanos else {
            throw AuditLogError(
                .corruption, "segment partition length \(header.partitionLengthNanos) ns differs from the log's \(manifest.partitionLengthNanos) ns",
                location: .init(file: display, offset: 48, seq: header.firstSeq))
        }
        guard LogDirectory.firstSeq(ofSegment: name) == header.firstSeq else {
            throw AuditLogError(.corruption, "file name says seq \(name.prefix(20)), header says \(header.firstSeq)", location: .init(file: display, offset: 32, seq: header.firstSeq))
        }
        try join(name, firstSeq: header.firstSeq, anchor: header.anchor, display: display)
        let size = walker.limit
        if let sealed = known[name], sealed.isSealed, sealed.bytes == size {
            segments.append(sealed)
        } else if let footer = try walker.sealedFooter() {
            guard footer.recordCount == 0 || footer.firstSeq == header.firstSeq else {
                throw AuditLogError(
                    .corruption, "footer first seq \(footer.firstSeq) differs from header \(header.firstSeq)",
                    location: .init(file: display, offset: size - Int64(SegmentFooter.byteCount), seq: header.firstSeq))
            }
            segments.append(SegmentInfo(fileName: name, header: header, footer: footer, fileSize: size))
        } else if isLast {
            segments.append(try scanActive(walker, directory: directory, repair: repair, known: known[name], observer: observer))
        } else {
            throw AuditLogError(.corruption, "segment has no valid footer but is not the last segment", location: .init(file: display, offset: size, seq: header.firstSeq))
        }
        lastHeader = header
    }

    /// Checks that segment `name` may follow the last one added. A gap is what a retention
    /// sweep leaves (`verify` and the writer check that a sweep record explains it); an overlap
    /// or a wrong anchor is never valid. `display` names the segment in errors (by default
    /// `segments/<name>`, made only for an error).
    private func join(_ name: String, firstSeq: SequenceNumber, anchor: ChainHash, display: String? = nil) throws(AuditLogError) {
        guard segments.last?.damage == nil else { return }
        switch SegmentChain.join(segments.last?.end, name: name, firstSeq: firstSeq, anchor: anchor, genesis: genesis) {
        case .continues, .gap: break
        case .overlaps(let previousLast):
            throw AuditLogError(
                .corruption, "segment starts at seq \(firstSeq), inside its predecessor (which ends at \(previousLast))",
                location: .init(file: display ?? LogDirectory.displayName(name), offset: 32, seq: firstSeq))
        case .anchorMismatch:
            let what = segments.last.map { "the chain value at the end of '\($0.fileName)'" } ?? "the log's genesis value"
            throw AuditLogError(.corruption, "segment anchor does not match \(what)", location: .init(file: display ?? LogDirectory.displayName(name), offset: 64, seq: firstSeq))
        }
    }

    private static func sealed(_ info: SegmentInfo?) -> SegmentInfo? { info?.isSealed == true && info?.damage == nil ? info : nil }

    /// The segment catalog's entries by first seq, when it is this log's (empty when there is
    /// none, or it does not decode or belongs elsewhere). By seq, not by file name: a name made
    /// for each entry and hashed was an allocation a segment at every open.
    private static func catalogEntries(_ directory: LogDirectory, manifest: LogManifest) -> [SequenceNumber: SegmentCatalogFile.Entry] {
        guard let file = directory.readCatalog(), file.logID == manifest.logID, file.partitionLengthNanos == manifest.partitionLengthNanos else { return [:] }
        var entries: [SequenceNumber: SegmentCatalogFile.Entry] = [:]
        entries.reserveCapacity(file.entries.count)
        for entry in file.entries { entries[entry.firstSeq] = entry }
        return entries
    }

    /// The entry of segment file `name` among `entries`.
    private static func entry(_ entries: [SequenceNumber: SegmentCatalogFile.Entry], _ name: String) -> SegmentCatalogFile.Entry? {
        LogDirectory.firstSeq(ofSegment: name).flatMap { entries[$0] }
    }

    /// The catalog file for `segments` (their sealed, intact ones).
    static func catalogFile(_ manifest: LogManifest, _ segments: [SegmentInfo]) -> SegmentCatalogFile {
        SegmentCatalogFile(logID: manifest.logID, partitionLengthNanos: manifest.partitionLengthNanos, entries: segments.compactMap(\.catalogEntry))
    }

    /// Walks the active segment to its end, checking every frame's checksum (a writer, and a
    /// reader's first look past what it or a checkpoint already vouches for); cuts, keeps and
    /// reports a torn tail when `repair`.
    private mutating func scanActive(_ walker: SegmentWalker, directory: LogDirectory, repair: Bool, known: SegmentInfo?, observer: (any StorageObserver)?) throws(AuditLogError) -> SegmentInfo {
        let header = walker.header
        var scan = ActiveSegmentScan(dataEnd: Int64(SegmentHeader.byteCount), chainAfter: header.anchor)
        if let known, !known.isSealed {
            scan = ActiveSegmentScan(known)
        } else if !repair, let point = observer?.resumePoint(ofActiveSegment: walker.name, limit: walker.limit),
            try Self.confirms(point, in: walker)
        {
            // The checkpoint's frames were checked when it was written; a query checks every
            // frame it reads. Only what was appended since is walked here.
            scan = point.scan
            observer?.resumed(activeSegment: walker.name, at: point)
        }
        walker.resume(at: scan.dataEnd, nextSeq: SequenceNumber(header.firstSeq.rawValue + scan.recordCount))
        while true {
            switch try walker.next(.check) {
            case .frame(let h, _):
                scan.add(h)
            case .end:
                return SegmentInfo(fileName: walker.name, header: header, scan: scan)
            case .tornTail(let offset, let reason):
                if repair {
                    if let committed = observer?.committedEnd(ofActiveSegment: walker.name), committed > offset {
                        throw AuditLogError(
                            .corruption,
                            "the bytes from offset \(offset) do not decode, but the index checkpoint the last writer left shows records up to byte offset \(committed) were committed: refusing to cut them",
                            location: .init(file: walker.displayName, offset: offset, seq: walker.nextSeq))
                    }
                    recovery.append(try TornTailRecovery.cut(walker, at: offset, reason: reason, directory: directory))
                }
                return SegmentInfo(fileName: walker.name, header: header, scan: scan)
            case .footer(_, let offset):
                // A valid footer that `sealedFooter` did not take: it disagrees with its place.
                throw AuditLogError(.corruption, "footer does not match the frames before it", location: .init(file: walker.displayName, offset: offset, seq: walker.nextSeq))
            case .damage(let damage):
                throw damage.error(in: walker.displayName)
            }
        }
    }

    /// Whether the frame a resume point names is there, in the segment: same seqs, ending
    /// where the point says, carrying its chain value (so the point describes these very
    /// records).
    private static func confirms(_ point: ResumePoint, in walker: SegmentWalker) throws(AuditLogError) -> Bool {
        guard point.scan.dataEnd <= walker.limit else { return false }
        guard let h = try? walker.frame(at: point.lastFrameOffset, firstSeq: point.lastFrameFirstSeq, count: point.lastFrameRecords, payload: .skip) else { return false }
        return point.lastFrameOffset + Int64(h.frameLengthBytes) == point.scan.dataEnd && h.chainAfter == point.scan.chainAfter
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
