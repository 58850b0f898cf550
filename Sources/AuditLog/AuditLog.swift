import Dispatch

/// An append-only, hash-chained audit log in one directory.
///
/// ```swift
/// let log = try await AuditLog.open(directory: "/var/lib/gateway/audit")
/// var event = AuditEvent(eventType: "decision", timestamp: .now)
/// event.verdict = .block
/// event.user = "alice@acme.com"
/// let receipt = try await log.append([event])      // durable when it returns
/// for try await record in log.records(order: .newestFirst) { print(record.seq, record.event.jsonText()) }
/// let report = try await log.verify()               // every checksum and chain link
/// try await log.close()
/// ```
///
/// One process at a time may open a log for writing (a lock file keeps a second out with
/// ``AuditLogError/Code/locked``); any number of read-only handles, in this process or others,
/// read a consistent prefix while it writes. Appends from any number of tasks are grouped:
/// each group is encoded, chained, written and synced once (see ``AuditLogOptions/Durability``).
public final class AuditLog: Sendable {
    /// The log directory.
    public let directory: String
    /// The options it was opened with.
    public let options: AuditLogOptions
    /// The log's random identity, fixed at creation.
    public let logID: LogID
    /// The partition length segments are cut at.
    package let partitionLengthNanos: Int64
    /// What was repaired at open (a torn final frame cut off), if anything.
    package let recovery: [RecoveryReport]

    /// The log's files.
    let files: LogDirectory
    let indexes: IndexStore
    /// Uploads sealed segments (a writer with an archive).
    let archiveUploader: ArchiveUploader?
    /// Recently read frames, shared by every query of the log.
    let frames: FrameCache
    private let core: WriterCore?
    /// Held while a checkpoint is signed and stored (one at a time per handle): the one this
    /// handle stored last.
    let signing = Locked<StoredCheckpoint?>(nil)
    /// The loop of ``AuditLogOptions/checkpointSigning``, and its last failure.
    let signingTask = Locked<Task<Void, Never>?>(nil)
    let signingProblem = Locked<AuditLogError?>(nil)
    /// `tree/kept.nodes` as last read, with the file size it had (AuditLog+Tree).
    let keptCache = Locked<(size: Int64, nodes: KeptNodes)?>(nil)
    private let lockFile: LockFile?
    /// Sweeps and hold changes, one at a time: a hold placed while a sweep runs is either seen
    /// by it or placed after it.
    let retentionGate = AsyncGate()
    private let queue: DispatchQueue
    private let timer: TimerBox?
    private let state: Locked<State>

    /// What queries read with.
    var context: LogReadContext { LogReadContext(directory: files, indexes: indexes, frames: frames) }

    struct Snapshot: Sendable {
        var segments: [SegmentInfo]
        var nextSeq: SequenceNumber
        var chainHead: ChainHash
    }

    private struct Pending: Sendable {
        var batch: PreparedBatch
        var continuation: CheckedContinuation<Result<AppendReceipt, AuditLogError>, Never>
    }

    private struct State: Sendable {
        var pending: [Pending] = []
        var draining = false
        var closed = false
        var snapshot: Snapshot
    }

    private init(
        files: LogDirectory, options: AuditLogOptions, catalog: LogCatalog, indexes: IndexStore, core: WriterCore?, lockFile: LockFile?,
        archive: ArchiveUploader? = nil
    ) {
        self.files = files
        self.indexes = indexes
        frames = FrameCache(capacityBytes: options.frameCacheBytes)
        self.archiveUploader = archive
        self.directory = files.path
        self.options = options
        self.logID = catalog.manifest.logID
        self.partitionLengthNanos = catalog.manifest.partitionLengthNanos
        self.recovery = catalog.recovery
        self.core = core
        self.lockFile = lockFile
        let queue = DispatchQueue(label: "auditlog.writer")
        self.queue = queue
        state = Locked(State(snapshot: Snapshot(segments: catalog.segments, nextSeq: catalog.nextSeq, chainHead: catalog.chainHead)))
        if let core, case .syncInterval(let ms) = options.durability {
            let source = DispatchSource.makeTimerSource(queue: queue)
            let interval = DispatchTimeInterval.milliseconds(max(1, ms))
            source.schedule(deadline: .now() + interval, repeating: interval)
            source.setEventHandler { core.backgroundSync() }
            source.resume()
            timer = TimerBox(source: source)
        } else {
            timer = nil
        }
    }

    /// Opens the log in `directory`, creating it when ``AuditLogOptions/createIfMissing``.
    ///
    /// Opening for writing takes the lock and repairs a torn final frame (see ``recovery``);
    /// any other damage throws ``AuditLogError`` naming the file, byte offset and seq.
    public static func open(directory: String, options: AuditLogOptions = AuditLogOptions()) async throws(AuditLogError) -> AuditLog {
        try await open(directory: directory, options: options, fileSystem: PosixFileSystem())
    }

    /// Opens the log in `directory` of `fileSystem`: in memory, or with faults injected (tests).
    @_spi(Testing)
    public static func open(directory: String, options: AuditLogOptions = AuditLogOptions(), fileSystem: any FileSystem) async throws(AuditLogError) -> AuditLog {
        try await open(files: LogDirectory(path: directory, fileSystem: fileSystem), options: options)
    }

    /// Opens the log of `files`; one whose ``LogDirectory/remote`` is set reads archived
    /// segments through it instead of resolving the archive again.
    static func open(files: LogDirectory, options: AuditLogOptions) async throws(AuditLogError) -> AuditLog {
        let log = try await BlockingIO.run { () throws(AuditLogError) in try openBlocking(files, options: options) }
        if options.access == .readWrite {
            do throws(AuditLogError) {
                try await log.checkGaps()
                try await log.recordRecoveries()
                log.startSigning()
            } catch {
                try? await log.close()
                throw error
            }
        }
        return log
    }

    /// A writer refuses a log with missing segments that no retention sweep record explains
    /// (a reader just reads what is there; `verify` reports it).
    private func checkGaps() async throws(AuditLogError) {
        let segments = snapshot.segments
        var gaps: [SegmentChain.Gap] = []
        var previous: SegmentChain.End?
        for s in segments {
            if case .gap(let gap) = SegmentChain.join(previous, name: s.fileName, firstSeq: s.firstSeq, anchor: s.anchor, genesis: ChainHash.genesis(logID: logID)) {
                gaps.append(gap)
            }
            previous = s.end
        }
        guard !gaps.isEmpty else { return }
        let removed = try await existingSweptRanges().map(\.removed)
        var ends: [SequenceNumber: ChainHash] = [:]
        for s in segments { if let last = s.lastSeq { ends[last] = s.chainAfter } }
        for gap in gaps where !SegmentChain.explains(gap, removed: removed, chainAfterSegmentEnding: ends) {
            throw AuditLogError(
                .corruption, "seqs \(gap.first)–\(gap.last) are missing and no retention sweep record explains it",
                location: .init(file: LogDirectory.displayName(gap.segment), offset: 32, seq: gap.first))
        }
    }

    private static func openBlocking(_ files: LogDirectory, options: AuditLogOptions) throws(AuditLogError) -> AuditLog {
        var files = files
        let fs = files.fileSystem
        if !fs.isDirectory(files.path) && fs.fileExists(files.path) {
            throw AuditLogError(.noLog, "'\(files.path)' is a file, not a log directory", location: .init(file: files.path))
        }
        guard options.segmentSizeLimitBytes >= 4096, options.maxBatchEvents >= 1 else {
            throw AuditLogError(.invalidArgument, "segment size limit must be at least 4096 bytes and batch limit at least 1")
        }
        guard options.frameCacheBytes >= 0 else {
            throw AuditLogError(.invalidArgument, "frame cache size must not be negative (frameCacheBytes \(options.frameCacheBytes))")
        }
        let resolve = files.remote == nil && (fs.fileExists(files.manifestPath) || options.archive != nil)
        let archive = resolve ? try resolveArchive(files, options) : nil
        if let (archiveOptions, store) = archive {
            files.remote = RemoteReads(store: store, cache: BlockCache(path: files.archiveCachePath, budgetBytes: archiveOptions.cacheSizeBytes))
        }
        switch options.access {
        case .readOnly:
            let indexes = IndexStore(files, persists: false, cachedColumnBytes: options.indexCacheBytes)
            let catalog = try LogCatalog.load(files, repair: false, observer: indexes)
            return AuditLog(files: files, options: options, catalog: catalog, indexes: indexes, core: nil, lockFile: nil)
        case .readWrite:
            if !fs.fileExists(files.manifestPath) {
                guard options.createIfMissing else {
                    throw AuditLogError(.noLog, "no log in '\(files.path)'", location: .init(file: files.path))
                }
                let lock = try LockFile.acquire(files, creatingDirectory: true)
                if !fs.fileExists(files.manifestPath) {
                    _ = try LogCatalog.create(files, partitionLengthNanos: options.partition.nanos)
                }
                return try openLocked(files, options: options, lock: lock, archive: archive)
            }
            let lock = try LockFile.acquire(files, creatingDirectory: false)
            return try openLocked(files, options: options, lock: lock, archive: archive)
        }
    }

    private static func openLocked(_ files: LogDirectory, options: AuditLogOptions, lock: LockFile, archive: (ArchiveOptions, S3Client)?) throws(AuditLogError) -> AuditLog {
        do throws(AuditLogError) {
            try files.create()
            let indexes = IndexStore(files, persists: true, cachedColumnBytes: options.indexCacheBytes)
            let catalog = try LogCatalog.load(files, repair: true, observer: indexes)
            // Temporary files a crash left, files derived from segments a sweep deleted, and
            // checkpoints of segments sealed since.
            try files.removeLeftovers(activeSegment: catalog.segments.last.flatMap { $0.isSealed ? nil : $0.fileName })
            indexes.repairSealedIndexes(catalog.segments.filter { !files.isEvicted($0.fileName) })
            var observers: [any StorageObserver] = [indexes]
            var uploader: ArchiveUploader?
            if let (archiveOptions, store) = archive {
                try ArchiveConfig.remember(archiveOptions, in: files)
                let u = ArchiveUploader(
                    directory: files, store: store, options: archiveOptions, logID: catalog.manifest.logID.description,
                    indexBytes: { indexes.checkedFileBytes($0) })
                observers.append(u)
                uploader = u
            }
            let core = try WriterCore(directory: files, catalog: catalog, options: options, observers: observers)
            let log = AuditLog(files: files, options: options, catalog: catalog, indexes: indexes, core: core, lockFile: lock, archive: uploader)
            if let uploader {
                uploader.setTreeSource { [weak log] (archived) throws(AuditLogError) in
                    guard let tree = try log?.treeObjects(after: archived) else { return nil }
                    return (tree.size, tree.objects)
                }
                uploader.start(with: catalog.segments)
            }
            return log
        } catch {
            lock.release()
            throw error
        }
    }

    deinit {
        timer?.source.cancel()
    }

    /// Says in the lock file that this writer serves the log at `url` (`auditlog serve` does),
    /// so that a command refused the lock can name the server to ask instead
    /// (``LogWriterHolder``). Does nothing on a read-only handle.
    public func announceServer(url: String) {
        lockFile?.describe(url: url)
    }

    // MARK: Appending

    /// Appends a batch of events: all of them or none.
    ///
    /// Events without an id get `evt_` + a ULID; a client-supplied id already in the log (or
    /// twice in the batch) fails the batch with ``AuditLogError/Code/duplicateID``. Returns
    /// when the records are as durable as ``AuditLogOptions/durability`` promises.
    ///
    /// Event types under `retention.`, `hold.`, `log.` and `audit.` are the log's own
    /// (``AuditEvent/isReserved(eventType:)``): an event of such a type fails the batch with
    /// ``AuditLogError/Code/invalidEvent``, so no client can forge a sweep, a hold or a
    /// recovery record.
    public func append(_ events: [AuditEvent]) async throws(AuditLogError) -> AppendReceipt {
        try await append(events, origin: .client)
    }

    /// Appends a slice of a larger array as one batch, exactly as ``append(_:)-([AuditEvent])``
    /// appends an array, without copying the events out of it: a bulk load appends
    /// `events[i..<i + 1000]` after `events[i - 1000..<i]`. Error locations count events from
    /// the slice's first (index 0), not from the array's.
    public func append(_ events: ArraySlice<AuditEvent>) async throws(AuditLogError) -> AppendReceipt {
        try await append(events, origin: .client)
    }

    /// Appends a batch from `origin`: the log's own records (sweeps, holds, recoveries) may use
    /// the reserved event types, clients' may not.
    func append(_ events: [AuditEvent], origin: PreparedBatch.Origin) async throws(AuditLogError) -> AppendReceipt {
        try await append(events[...], origin: origin)
    }

    func append(_ events: ArraySlice<AuditEvent>, origin: PreparedBatch.Origin) async throws(AuditLogError) -> AppendReceipt {
        try requireWritable()
        // Validation and encoding happen here, on the appending task; the writer only chains,
        // frames and writes.
        return try await submit(try PreparedBatch(events, maxEvents: options.maxBatchEvents, origin: origin))
    }

    private func requireWritable() throws(AuditLogError) {
        guard core != nil else {
            throw AuditLogError(.invalidArgument, "the log was opened read-only", location: .init(file: directory))
        }
    }

    /// Hands a prepared batch to the writer; returns when it is as durable as promised.
    func submit(_ batch: PreparedBatch) async throws(AuditLogError) -> AppendReceipt {
        try requireWritable()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppendReceipt, AuditLogError>, Never>) in
            enum Action { case refuse, wait, drain }
            let action = state.withLock { s -> Action in
                if s.closed { return .refuse }
                s.pending.append(Pending(batch: batch, continuation: continuation))
                if s.draining { return .wait }
                s.draining = true
                return .drain
            }
            switch action {
            case .refuse: continuation.resume(returning: .failure(AuditLogError(.closed, "the log is closed")))
            case .wait: break
            case .drain:
                // Without a sync to wait for, the appender that finds the writer idle writes the
                // group itself, on its own thread (`sync` on an idle serial queue runs there, and
                // still excludes every other use of the writer): no hand-over to the writer's
                // thread and back, which cost a bulk load of batches of 1,000 12–16 % of its time.
                // With a sync per batch the writer's thread waits for the disk instead of the
                // appender's, which goes on preparing the next batch of the group.
                if options.durability == .syncEveryBatch {
                    queue.async { self.drain() }
                } else {
                    queue.sync { self.drain() }
                }
            }
        }
        return try result.get()
    }

    /// Appends the log's own records (reserved types: `audit.read`, `audit.webhook_added`, …)
    /// for the adapters of this package (the HTTP server's read audit, webhook changes); never
    /// reachable with a client's events.
    package func appendOwnRecords(_ events: [AuditEvent]) async throws(AuditLogError) -> AppendReceipt {
        try await append(events, origin: .log)
    }

    /// Appends one event; returns its record (with the assigned id and seq).
    public func append(_ event: AuditEvent) async throws(AuditLogError) -> Record {
        try await append(event, origin: .client)
    }

    func append(_ event: AuditEvent, origin: PreparedBatch.Origin) async throws(AuditLogError) -> Record {
        let receipt = try await append([event], origin: origin)
        var stored = event
        stored.id = receipt.ids.first
        return Record(seq: receipt.firstSeq, event: stored)
    }

    /// Runs on the writer queue: takes every pending batch, writes them as one group, publishes
    /// the new state, wakes the appenders; repeats until nothing is pending.
    private func drain() {
        guard let core else { return }
        while true {
            let group = state.withLock { s -> [Pending] in
                if s.pending.isEmpty {
                    s.draining = false
                    return []
                }
                defer { s.pending.removeAll() }
                return s.pending
            }
            if group.isEmpty { return }
            let results = core.write(group.map(\.batch))
            let snapshot = Snapshot(segments: core.segments, nextSeq: core.nextSeq, chainHead: core.chain)
            state.withLock { $0.snapshot = snapshot }
            for (pending, result) in zip(group, results) {
                pending.continuation.resume(returning: result)
            }
        }
    }

    /// Finishes pending appends, signs a last checkpoint when ``AuditLogOptions/checkpointSigning``
    /// is set and the log grew since the previous one, syncs and releases the write lock. Later
    /// appends fail with ``AuditLogError/Code/closed``. The active segment stays active:
    /// reopening continues it.
    public func close() async throws(AuditLogError) {
        await stopSigning()
        let wasClosed = state.withLock { s -> Bool in
            defer { s.closed = true }
            return s.closed
        }
        guard !wasClosed, let core else { return }
        timer?.source.cancel()
        let result: Result<Void, AuditLogError> = await withCheckedContinuation { continuation in
            queue.async {
                self.drain()
                // Syncs, then lets the observers finish (index files of segments sealed so far,
                // a checkpoint of the active one) before the lock goes.
                do throws(AuditLogError) {
                    try core.close()
                    self.lockFile?.release()
                    continuation.resume(returning: .success(()))
                } catch {
                    self.lockFile?.release()
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }

    /// Deletes sealed segments on the writer queue and publishes the smaller catalog.
    func removeSegments(_ remove: [SegmentInfo], checkpointSizes: [UInt64] = []) async throws(AuditLogError) {
        guard let core else { throw AuditLogError(.invalidArgument, "the log was opened read-only") }
        let names = Set(remove.map(\.fileName))
        let result: Result<Void, AuditLogError> = await withCheckedContinuation { continuation in
            queue.async {
                self.drain()
                let result: Result<Void, AuditLogError>
                do throws(AuditLogError) {
                    try core.removeSegments(names, checkpointSizes: checkpointSizes)
                    result = .success(())
                } catch {
                    result = .failure(error)
                }
                // Published either way: a failure half way has still deleted some segments.
                let snapshot = Snapshot(segments: core.segments, nextSeq: core.nextSeq, chainHead: core.chain)
                self.state.withLock { $0.snapshot = snapshot }
                continuation.resume(returning: result)
            }
        }
        try result.get()
    }

    // MARK: Reading

    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// The seq of the last record and the chain value after it, as of the last append (or,
    /// read-only, the last refresh).
    public var head: LogHead {
        let s = snapshot
        return LogHead(lastSeq: s.nextSeq.rawValue > 1 ? SequenceNumber(s.nextSeq.rawValue - 1) : nil, chainHead: s.chainHead)
    }

    /// The writer's tree problem (see ``treeProblem``), read on the writer's queue.
    /// The writer's tree size and root as of its last append (nil read-only or without a tree).
    var writerTreeHead: (size: UInt64, root: TreeHash)? {
        guard let core else { return nil }
        return queue.sync { core.treeHead }
    }

    var writerTreeProblem: AuditLogError? {
        guard let core else { return nil }
        return queue.sync { core.treeState }
    }

    /// Every segment, oldest first, as of the last append (or, read-only, the last refresh).
    package var segments: [SegmentInfo] { snapshot.segments }

    /// Records with seq in `range` (all records when nil), streamed a frame at a time.
    /// Frames are read and decoded off the caller's executor, a batch of records at a time.
    public func records(_ range: ClosedRange<SequenceNumber>? = nil, order: ReadOrder = .oldestFirst) -> some AsyncSequence<Record, AuditLogError> & Sendable {
        let (files, segments, bounds) = (self.files, snapshot.segments, self.bounds(range))
        return RecordStream { RecordReader(files, segments: segments, range: bounds, order: order) }
    }

    /// A synchronous reader over the records in `range` as of now, for blocking paths: it
    /// reads on the calling thread.
    package func recordReader(_ range: ClosedRange<SequenceNumber>? = nil, order: ReadOrder = .oldestFirst) -> RecordReader {
        RecordReader(files, segments: snapshot.segments, range: bounds(range), order: order)
    }

    /// `range` clipped to the records the log holds, nil when it holds none of them.
    private func bounds(_ range: ClosedRange<SequenceNumber>?) -> ClosedRange<SequenceNumber>? {
        let s = snapshot
        guard let first = s.segments.first?.firstSeq, s.nextSeq > first else { return nil }
        let last = SequenceNumber(s.nextSeq.rawValue - 1)
        let lower = max(range?.lowerBound ?? first, first)
        let upper = min(range?.upperBound ?? last, last)
        return lower <= upper ? lower...upper : nil
    }

    /// The record at `seq`, or nil when the log holds none.
    public func record(at seq: SequenceNumber) async throws(AuditLogError) -> Record? {
        let (files, segments, bounds) = (self.files, snapshot.segments, self.bounds(seq...seq))
        return try await BlockingIO.run { () throws(AuditLogError) in
            try RecordReader(files, segments: segments, range: bounds, order: .oldestFirst).next()
        }
    }

    /// Rereads the segment list from disk: a read-only handle then sees what the writer has
    /// appended since. (A read-write handle is always current.)
    public func refresh() async throws(AuditLogError) {
        guard core == nil else { return }
        let files = self.files
        let indexes = self.indexes
        let previous = snapshot.segments
        let catalog = try await BlockingIO.run { () throws(AuditLogError) in try LogCatalog.load(files, repair: false, previous: previous, observer: indexes) }
        state.withLock { $0.snapshot = Snapshot(segments: catalog.segments, nextSeq: catalog.nextSeq, chainHead: catalog.chainHead) }
    }
}

/// The seq of a log's last record and the chain value after it: what an auditor pins
/// (``VerificationOptions/expectedHead``).
public struct LogHead: Hashable, Sendable {
    /// The last record's seq, nil when the log is empty.
    public var lastSeq: SequenceNumber?
    /// `h(lastSeq)` (the genesis value of an empty log).
    public var chainHead: ChainHash
}

/// The interval-sync timer (Dispatch sources are thread-safe; this box only carries it).
private final class TimerBox: @unchecked Sendable {
    let source: any DispatchSourceTimer
    init(source: any DispatchSourceTimer) { self.source = source }
}
