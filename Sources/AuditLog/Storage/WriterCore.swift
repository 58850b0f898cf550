/// The single writer of a log: chains, frames and writes batches, rolls and seals segments, and
/// tells its observers. Everything here runs on the log's writer queue, one drain at a time, so
/// it needs no lock of its own (hence `@unchecked Sendable`: the queue is the synchronisation).
final class WriterCore: @unchecked Sendable {
    let directory: LogDirectory
    let manifest: LogManifest
    let options: AuditLogOptions

    private(set) var segments: [SegmentInfo]
    private var activeFile: (any SegmentFile)?
    private var activeHeader: SegmentHeader?
    private(set) var nextSeq: SequenceNumber
    private(set) var chain: ChainHash
    /// Set after a write or sync failure that could not be undone: every later append fails.
    private(set) var fatalError: AuditLogError?
    private(set) var unsynced = false

    private var ids: IDIndex?
    /// The Merkle tree over every entry; nil when it cannot be kept (``treeProblem`` says why).
    private var tree: TreeWriter?
    /// Why there is no tree: a log swept before it kept one, or a tree file that is not this
    /// log's. Appends go on; proofs and checkpoints report this.
    private(set) var treeProblem: AuditLogError?
    // Reused buffers: no per-record allocation on the append path.
    private var frame = FrameBuilder()
    private var out: [UInt8] = []
    /// Where the active segment's bytes not yet handed to write-back start
    /// (``SegmentFile/startWriteback(_:)``).
    private var writebackStart: Int64 = 0
    /// Without a sync per batch, every this many bytes written are handed to write-back, so
    /// that the sync at a seal (or the interval's) finds little left to write.
    static let writebackChunk: Int64 = 1 << 20

    /// Told about every segment this writer seals or removes (indexes, for now).
    private let observers: [any StorageObserver]

    init(directory: LogDirectory, catalog: LogCatalog, options: AuditLogOptions, observers: [any StorageObserver]) throws(AuditLogError) {
        self.directory = directory
        self.observers = observers
        self.manifest = catalog.manifest
        self.options = options
        segments = catalog.segments
        nextSeq = catalog.nextSeq
        chain = catalog.chainHead
        activeHeader = catalog.lastHeader
        if let last = catalog.segments.last, !last.isSealed {
            activeFile = try directory.openForWriting(last.fileName)
        }
        openTree()
        if directory.readCatalog() != LogCatalog.catalogFile(manifest, segments) { updateCatalog() }
    }

    /// Rewrites the segment catalog (``SegmentCatalogFile``) for the sealed segments, without
    /// a sync: it is only a shortcut for readers' opens, and one a crash garbles fails its
    /// checksum. A failure removes it rather than fail the writer (a catalog that cannot be
    /// removed either is harmless: an open checks each entry against its file's size).
    private func updateCatalog() {
        do throws(AuditLogError) {
            try directory.writeCatalog(LogCatalog.catalogFile(manifest, segments))
        } catch {
            try? directory.removeCatalog()
        }
    }

    /// Opens (recovering) the tree for the records on disk, or records why it cannot.
    private func openTree() {
        tree?.close()
        tree = nil
        guard options.keepsMerkleTree else {
            treeProblem = AuditLogError(.invalidArgument, "the log was opened without its Merkle tree")
            return
        }
        do throws(AuditLogError) {
            // Nodes over sealed segments were synced before their seal (and nodes under swept
            // records before the sweep): those are trusted; any other node on disk may be what
            // a power cut left of an unsynced write, so it is recomputed from the records.
            let sealed = segments.last(where: \.isSealed)?.lastSeq?.rawValue ?? 0
            let swept = (segments.first?.firstSeq.rawValue ?? 1) - 1
            tree = try TreeWriter(directory, logID: manifest.logID, segments: segments, size: nextSeq.rawValue - 1, trusted: max(sealed, swept))
            treeProblem = nil
        } catch {
            treeProblem = error
        }
    }

    /// Writes `batches` (in order) as one group: each batch is validated on its own and either
    /// wholly appended or refused; all accepted batches share frames, one write per segment
    /// and, with ``AuditLogOptions/Durability/syncEveryBatch``, one sync.
    func write(_ batches: [PreparedBatch]) -> [Result<AppendReceipt, AuditLogError>] {
        if let fatalError { return batches.map { _ in .failure(fatalError) } }
        var results: [Result<AppendReceipt, AuditLogError>] = []
        results.reserveCapacity(batches.count)
        let before = (nextSeq, chain)
        // The ids of the batches committed so far in this group, whose records reach the file
        // only at the group's end: a later batch's duplicate check reads them from here.
        var unwritten: [UnwrittenIDs] = []
        do throws(AuditLogError) {
            for batch in batches {
                do throws(AuditLogError) {
                    ids?.prefetch(batch.idHashes)
                    try checkIDs(batch, unwritten: unwritten)
                    let receipt = try commit(batch)
                    unwritten.append(UnwrittenIDs(firstSeq: receipt.firstSeq.rawValue, ids: batch.ids, idHashes: batch.idHashes))
                    results.append(.success(receipt))
                } catch  where error.code.isBatchRejection {
                    results.append(.failure(error))
                }
            }
            try flush()
            if options.durability == .syncEveryBatch {
                try sync()
            }
        } catch {
            rollBack(to: before, after: error)
            LibraryMetrics.failedGroup()
            return batches.map { _ in .failure(error) }
        }
        let written = nextSeq.rawValue - before.0.rawValue
        if written > 0 {
            LibraryMetrics.group(records: Int(written), bytes: batches.reduce(0) { $0 + $1.records.count })
        }
        return results
    }

    /// The ids of a batch committed in the group being written, from `firstSeq` on, and their
    /// ``IDIndex/fullHash(_:)``s.
    private struct UnwrittenIDs {
        var firstSeq: UInt64
        var ids: [String]
        var idHashes: [UInt64]
    }

    /// Refuses a batch whose client-supplied ids are already in the log, or in a batch of
    /// this group committed before it (`unwritten`). Builds the id index on the first
    /// client-supplied id.
    private func checkIDs(_ batch: PreparedBatch, unwritten: [UnwrittenIDs]) throws(AuditLogError) {
        guard !batch.clientIDIndices.isEmpty else { return }
        if ids == nil {
            // Built from the file, which lacks this group's earlier batches: their ids go in
            // from memory, or a later batch could take one of them again.
            var built = try IDIndex.build(directory, segments: segments, observers: observers)
            for group in unwritten {
                for (i, hash) in group.idHashes.enumerated() { built.insert(fullHash: hash, seq: group.firstSeq + UInt64(i)) }
            }
            ids = built
        }
        func idAt(_ seq: UInt64) throws(AuditLogError) -> String? {
            if let group = unwritten.last(where: { $0.firstSeq <= seq }), seq - group.firstSeq < UInt64(group.ids.count) {
                return group.ids[Int(seq - group.firstSeq)]
            }
            return try storedID(at: seq)
        }
        for i in batch.clientIDIndices {
            // The id string only on a candidate (a copy per id retained and released it).
            if let seq = try ids?.seq(fullHash: batch.idHashes[i], holds: { (seq) throws(AuditLogError) in try idAt(seq) == batch.ids[i] }) {
                throw AuditLogError(.duplicateID, "id \"\(batch.ids[i])\" is already in the log at seq \(seq)", location: .init(index: i, field: "id"))
            }
        }
    }

    /// The id stored at `seq` (reads the record; used only to confirm an id-hash hit).
    private func storedID(at seq: UInt64) throws(AuditLogError) -> String? {
        let reader = RecordReader(directory, segments: segments, range: SequenceNumber(seq)...SequenceNumber(seq), order: .oldestFirst)
        return try reader.next()?.event.id
    }

    /// Assigns seqs, chains and frames the prepared leaves. Rolls segments as needed.
    private func commit(_ batch: PreparedBatch) throws(AuditLogError) -> AppendReceipt {
        let first = nextSeq
        var start = 0
        for i in 0..<batch.count {
            let ts = batch.timestampsNanos[i]
            try rollIfNeeded(forTimestamp: ts)
            let end = batch.recordEnds[i]
            let seq = nextSeq
            batch.records.withUnsafeBytes { raw in
                let record = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                chain = chain.chained(seq: seq, record: record)
                tree?.append(seq: seq, record: record)
                frame.append(record: record, seq: seq, timestampNanos: ts)
            }
            ids?.insert(fullHash: batch.idHashes[i], seq: seq.rawValue)
            nextSeq = seq.next
            start = end
            if frame.rawBytes >= FrameBuilder.targetRawBytes { closeFrame() }
        }
        return AppendReceipt(firstSeq: first, lastSeq: SequenceNumber(nextSeq.rawValue - 1), ids: batch.ids, chainHead: chain)
    }

    /// How frames are stored: as the options say, else as the newest segment stores them.
    private var encoding: AuditLogOptions.FrameEncoding {
        options.frameEncoding ?? (activeHeader?.allowsColumnFrames == true ? .columns : .rows)
    }

    private func closeFrame() {
        guard !frame.isEmpty else { return }
        frame.writesColumns = encoding == .columns && activeHeader?.allowsColumnFrames == true
        let h = frame.finish(chainAfter: chain, into: &out)
        segments[segments.count - 1].add(h)
    }

    /// Writes the closed frames to the active segment.
    private func flush() throws(AuditLogError) {
        closeFrame()
        guard !out.isEmpty, let file = activeFile else { return }
        let offset = segments[segments.count - 1].bytes
        try file.write(out, at: offset)
        segments[segments.count - 1].bytes += Int64(out.count)
        out.removeAll(keepingCapacity: true)
        unsynced = true
        startWriteback(file, written: offset..<segments[segments.count - 1].bytes)
        treeStep { (tree) throws(AuditLogError) in try tree.flush() }
    }

    /// Hands the bytes written since the last hint to write-back once they reach
    /// ``writebackChunk``, unless every batch is synced anyway. A seal syncs its segment
    /// whatever the durability, on the appending thread: without the hints that sync wrote
    /// the whole segment then (37–44 ms for a 64 MiB one here; docs/PERFORMANCE.md).
    private func startWriteback(_ file: any SegmentFile, written: Range<Int64>) {
        guard options.durability != .syncEveryBatch else { return }
        // A start past this write's is another segment's (a roll, a rollback since).
        if writebackStart > written.lowerBound { writebackStart = written.lowerBound }
        guard written.upperBound - writebackStart >= Self.writebackChunk else { return }
        file.startWriteback(writebackStart..<written.upperBound)
        writebackStart = written.upperBound
    }

    /// Runs a write of the tree. A failure there does not fail appends (the tree is derived
    /// from the records, and the next open recomputes what is missing): the tree stops, and
    /// checkpoints and sweeps say why until it is reopened.
    private func treeStep(_ step: (TreeWriter) throws(AuditLogError) -> Void) {
        guard let tree else { return }
        do throws(AuditLogError) {
            try step(tree)
        } catch {
            tree.close()
            self.tree = nil
            treeProblem = error
        }
    }

    private func partitionStart(of ts: Int64) -> Int64 {
        ts - ts % manifest.partitionLengthNanos
    }

    /// Seals the active segment and starts a new one when the event's partition is later than
    /// the segment's, or the segment is full; starts the first one when there is none.
    private func rollIfNeeded(forTimestamp ts: Int64) throws(AuditLogError) {
        let partition = partitionStart(of: ts)
        if activeFile != nil, let header = activeHeader {
            let size = segments[segments.count - 1].bytes + Int64(out.count) + Int64(frame.rawBytes / 2)
            guard partition > header.partitionStartNanos || size >= options.segmentSizeLimitBytes else { return }
            if segments[segments.count - 1].recordCount == 0 && frame.isEmpty && out.isEmpty {
                // Started but never written to (a crash right after a roll): the next segment
                // starts at the same seq, so this one goes instead of being sealed.
                try discardEmptyActiveSegment()
            } else {
                try seal()
            }
        }
        try startSegment(partitionStartNanos: max(partition, activeHeader?.partitionStartNanos ?? partition))
    }

    /// Writes the footer and syncs, whatever the durability policy: a sealed segment is
    /// complete on disk before any later segment exists.
    private func seal() throws(AuditLogError) {
        let start = ContinuousClock.now
        try flush()
        guard let file = activeFile, var info = segments.last, !info.isSealed else { return }
        let footer = SegmentFooter(
            firstSeq: info.firstSeq, lastSeq: info.lastSeq ?? SequenceNumber(info.firstSeq.rawValue - 1),
            recordCount: info.recordCount, frameCount: info.frameCount,
            minTimestampNanos: info.minTimestamp?.nanosSinceEpoch ?? 0, maxTimestampNanos: info.maxTimestamp?.nanosSinceEpoch ?? 0,
            dataEndOffset: UInt64(info.bytes), chainAfter: info.chainAfter, rawPayloadBytes: info.rawPayloadBytes)
        // The frames are durable before the footer is written: a power cut cannot keep a footer
        // (a sealed segment) over frames that never reached the disk. The tree's nodes over
        // this segment are durable before its seal too: the next open trusts the nodes of
        // sealed segments and recomputes only the rest (so `tree/synced` need not say so).
        if unsynced { try file.sync() }
        treeStep { (tree) throws(AuditLogError) in try tree.syncNodes() }
        try file.write(footer.encoded(), at: info.bytes)
        try file.sync()
        info.bytes += Int64(SegmentFooter.byteCount)
        info.isSealed = true
        segments[segments.count - 1] = info
        file.close()
        activeFile = nil
        unsynced = false
        LibraryMetrics.sealed(since: start)
        for observer in observers { observer.segmentSealed(info) }
        updateCatalog()
    }

    private func discardEmptyActiveSegment() throws(AuditLogError) {
        guard let empty = segments.last, !empty.isSealed, empty.recordCount == 0 else { return }
        activeFile?.close()
        activeFile = nil
        for observer in observers { observer.segmentsRemoved([empty.fileName]) }
        try directory.removeSegment(empty.fileName)
        try directory.syncSegments()
        segments.removeLast()
    }

    private func startSegment(partitionStartNanos: Int64) throws(AuditLogError) {
        let header = SegmentHeader(
            version: encoding == .columns ? SegmentHeader.columnsVersion : SegmentHeader.rowsVersion, logID: manifest.logID, firstSeq: nextSeq, partitionStartNanos: partitionStartNanos,
            partitionLengthNanos: manifest.partitionLengthNanos, createdAtNanos: Timestamp.now.nanosSinceEpoch, anchor: chain)
        let name = LogDirectory.segmentName(firstSeq: nextSeq)
        let file = try directory.openForWriting(name, create: true)
        try file.write(header.encoded(), at: 0)
        try file.sync()
        try directory.syncSegments()
        activeFile = file
        activeHeader = header
        segments.append(SegmentInfo(fileName: name, header: header, scan: ActiveSegmentScan(dataEnd: Int64(SegmentHeader.byteCount), chainAfter: chain)))
    }

    /// `fdatasync` of the active segment when anything is unsynced.
    func sync() throws(AuditLogError) {
        guard unsynced, let file = activeFile else { return }
        let start = ContinuousClock.now
        try file.sync()
        LibraryMetrics.synced(since: start)
        unsynced = false
    }

    /// After a failed write, sync or roll: removes from disk whatever the failed group added
    /// (segments it started, frames and a footer it wrote) and reloads the state from disk, so
    /// the log is exactly as before the group and accepts appends again once the fault clears.
    /// Nothing acknowledged is touched: the group's appends all fail. If the repair itself
    /// fails, the writer stops (``fatalError``) and the log must be reopened, whose recovery
    /// finishes the job.
    private func rollBack(to before: (SequenceNumber, ChainHash), after error: AuditLogError) {
        frame = FrameBuilder()
        out.removeAll(keepingCapacity: true)
        ids = nil
        activeFile?.close()
        activeFile = nil
        do throws(AuditLogError) {
            try cutBack(to: before.0)
            let catalog = try LogCatalog.load(directory, repair: true)
            guard catalog.nextSeq == before.0, catalog.chainHead == before.1 else {
                throw AuditLogError(.corruption, "log on disk does not end where the failed group started (seq \(before.0))")
            }
            segments = catalog.segments
            nextSeq = catalog.nextSeq
            chain = catalog.chainHead
            activeHeader = catalog.lastHeader
            if let last = segments.last, !last.isSealed {
                activeFile = try directory.openForWriting(last.fileName)
            }
            unsynced = false
            openTree()
            updateCatalog()
        } catch let repairError {
            fatalError = AuditLogError(.closed, "the writer stopped after a failed write and could not repair the log: \(repairError.message); reopen the log", location: error.location, cause: error)
        }
    }

    /// Removes every record from `seq` on: the segment files that start there or later, and
    /// the frames (with a footer after them) of the segment before, which becomes active again.
    private func cutBack(to seq: SequenceNumber) throws(AuditLogError) {
        // The catalog may list a segment about to be cut or unsealed: gone (durably) until the
        // rollback has reloaded the log.
        try directory.removeCatalog()
        try directory.syncSegments()
        let names = try directory.segmentNames()
        var kept = names
        var removed = Set<String>()
        while let name = kept.last, let first = LogDirectory.firstSeq(ofSegment: name), first >= seq {
            try directory.removeSegment(name)
            removed.insert(name)
            kept.removeLast()
        }
        if !removed.isEmpty {
            try directory.syncSegments()
            for observer in observers { observer.segmentsRemoved(removed) }
        }
        guard let name = kept.last else { return }
        let walker = try SegmentWalker(directory, name)
        var offset = Int64(SegmentHeader.byteCount)
        scan: while true {
            switch try walker.next(.skip) {
            case .frame(let h, _) where h.lastSeq < seq: offset = walker.offset
            case .footer(let f, _) where f.lastSeq < seq: return  // sealed before the group: keep it
            case .end: return
            default: break scan  // the group's first frame, its torn remains, or a footer after it
            }
        }
        let file = try directory.openForWriting(name)
        defer { file.close() }
        try file.truncate(to: offset)
        try file.sync()
        // Sealed during the group: what was derived from it describes a segment no longer there.
        try directory.removeDerived(.index, of: name)
        for observer in observers { observer.segmentUnsealed(name) }
    }

    /// Deletes sealed segments (and what was derived from them): a sync first, so that the
    /// record of the deletion is durable before anything is removed. Never the last segment.
    ///
    /// Before anything goes, the tree is brought up to date and synced, and the nodes proofs
    /// will need that only the deleted records could give are kept (``TreeRetention``), for the
    /// remaining entries and for every size in `checkpointSizes` (the signed checkpoints').
    func removeSegments(_ names: Set<String>, checkpointSizes: [UInt64] = []) throws(AuditLogError) {
        if let fatalError { throw fatalError }
        guard let last = segments.last, !names.contains(last.fileName) else {
            throw AuditLogError(.invalidArgument, "the newest segment is never deleted")
        }
        try flush()
        try sync()
        for info in segments where names.contains(info.fileName) {
            guard info.isSealed else { throw AuditLogError(.invalidArgument, "segment '\(info.fileName)' is not sealed") }
        }
        try keepTree(removing: names, checkpointSizes: checkpointSizes)
        // One at a time, oldest first, each forgotten as soon as its file is gone: a failure
        // half way leaves a consistent log (the sweep record covers the rest; sweeping again
        // finishes it).
        var removed = Set<String>()
        defer { if !removed.isEmpty { for observer in observers { observer.segmentsRemoved(removed) } } }
        for info in segments where names.contains(info.fileName) {
            try directory.removeSegment(info.fileName)
            segments.removeAll { $0.fileName == info.fileName }
            removed.insert(info.fileName)
        }
        try directory.syncSegments()
        updateCatalog()
    }

    /// Syncs the tree and keeps what proofs need of the segments about to go. A tree that
    /// cannot be brought up to date stops the sweep (its nodes would be lost with the records);
    /// one already incomplete since an older sweep (``AuditLogError/Code/noLog``) does not.
    private func keepTree(removing names: Set<String>, checkpointSizes: [UInt64]) throws(AuditLogError) {
        if tree == nil { openTree() }
        if let treeProblem {
            guard treeProblem.code == .noLog else {
                throw AuditLogError(.io, "the Merkle tree cannot be brought up to date, so no segment is deleted: \(treeProblem.message)", location: treeProblem.location, cause: treeProblem)
            }
            return
        }
        treeStep { (tree) throws(AuditLogError) in try tree.sync() }
        if let treeProblem { throw treeProblem }
        var kept = try KeptNodes.load(directory, logID: manifest.logID)
        let nodes = try TreeRetention.nodesToKeep(directory, segments: segments, removing: names, checkpointSizes: checkpointSizes, kept: kept)
        try kept.keep(nodes, in: directory, logID: manifest.logID)
    }

    /// The tree's size and root as of the last append, nil without a tree.
    var treeHead: (size: UInt64, root: TreeHash)? { tree.map { ($0.size, $0.root()) } }

    /// Why the tree cannot give proofs now, nil when it can.
    var treeState: AuditLogError? { treeProblem }

    /// The interval timer's sync. A failure stops the writer: acknowledged appends may not be
    /// durable, and only a reopen (which rereads the disk) can say what is.
    func backgroundSync() {
        guard fatalError == nil else { return }
        do throws(AuditLogError) {
            try sync()
        } catch {
            fatalError = AuditLogError(.closed, "the writer stopped after a failed background sync; reopen the log", location: error.location, cause: error)
        }
    }

    /// Syncs and closes the active segment file (it stays active: the next open continues it),
    /// then lets the observers leave what they derive from it.
    func close() throws(AuditLogError) {
        defer {
            activeFile?.close()
            activeFile = nil
            fatalError = fatalError ?? AuditLogError(.closed, "the log is closed")
        }
        if fatalError == nil {
            try sync()
            treeStep { (tree) throws(AuditLogError) in try tree.sync() }
            tree?.close()
            for observer in observers {
                observer.waitForBackgroundWork()
                observer.writerClosing(active: segments.last)
            }
        }
    }
}
