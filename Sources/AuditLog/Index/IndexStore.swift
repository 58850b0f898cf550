import Dispatch

/// Loads, caches, validates and (for a writer) persists segment indexes. It hears about
/// sealed, removed and closing segments as a ``StorageObserver`` of the writer. Sealed segments use
/// their `.idx` file, rebuilt from the segment when it is missing, stale or damaged (never
/// trusted over the segment); the active segment is indexed in memory, incrementally, as far as
/// the reader's snapshot goes.
final class IndexStore: StorageObserver {
    let directory: LogDirectory
    /// Whether rebuilt index files may be written (the writer's store).
    let persists: Bool
    private let state = Locked(State())
    private let background = DispatchQueue(label: "auditlog.indexer", qos: .utility)
    /// The memory index files are encoded in, kept from one write to the next: a bulk load
    /// seals a segment every few seconds, and fresh memory was a third of the background build's
    /// time on a VM. Taken by one write at a time (another uses its own); made by the first, as
    /// a reader's open, which writes none, zeroed its ~256 KiB of LZ4HC state for nothing.
    private let encodeBuffers = Locked<IndexFile.EncodeBuffers?>(nil)
    /// Loaded index columns, id tables and rollup rows are kept, least recently used evicted
    /// first, up to about this many bytes (``AuditLogOptions/indexCacheBytes``).
    private let cacheBudget: Int

    private struct Active: Sendable {
        var fileName: String
        var builder: IndexBuilder
        var scannedTo: Int64
    }

    /// The active segment's index read part by part from its checkpoint, while the checkpoint
    /// covers the whole segment (a log nobody is appending to: the common cold open).
    private struct LazyActive: Sendable {
        var fileName: String
        var recordCount: UInt64
        var data: IndexData
        var loaded: Set<Part>
    }

    private struct State: Sendable {
        var sealed: [String: Sealed] = [:]
        var lazyActive: LazyActive?
        /// The checkpoint directory behind the last resume point offered, until storage says
        /// it confirmed that point (``resumed(activeSegment:at:)``).
        var offered: LazyActive?
        /// Index files already reported as rebuilt (each is reported once).
        var reported: Set<String> = []
        var active: Active?
        var rebuilds: [IndexRebuild] = []
        var clock: UInt64 = 0
        var pending: Set<String> = []
    }

    init(_ directory: LogDirectory, persists: Bool, cachedColumnBytes: Int) {
        self.directory = directory
        self.persists = persists
        self.cacheBudget = max(0, cachedColumnBytes)
    }

    /// The sealed segments with columns in memory now, and about the bytes each keeps there.
    var segmentsWithColumns: [String: Int] {
        state.withLock { s in s.sealed.filter { $0.value.holdsColumns }.mapValues { $0.cachedBytes } }
    }

    /// Sealed segments whose rollup rows are in memory.
    var segmentsWithRollups: Int {
        state.withLock { s in s.sealed.values.filter { $0.data.rollups != nil }.count }
    }

    /// Indexes rebuilt so far.
    var rebuilds: [IndexRebuild] { state.withLock { $0.rebuilds } }

    /// The index of `segment` with the requested parts.
    func view(_ segment: SegmentInfo, parts: Set<Part>) throws(AuditLogError) -> IndexView {
        try segment.checkReadable()
        let parts = Part.closure(parts)
        return segment.isSealed ? try sealedView(segment, parts: parts) : try activeView(segment, parts: parts)
    }

    // MARK: Sealed segments

    private func sealedView(_ segment: SegmentInfo, parts: Set<Part>) throws(AuditLogError) -> IndexView {
        let entry = try sealedEntry(segment, parts: parts).entry
        return IndexView(
            segment: segment, frames: entry.data.frames, dictionaries: parts.contains(.dictionaries) ? entry.data.dictionaries : [],
            columns: parts.contains { $0.isColumn } ? entry.data.columns : nil,
            ids: parts.contains(.ids) ? IndexView.IDs(hashes: entry.data.idHashes, ordinals: entry.data.idOrdinals, sorted: true) : nil,
            rollups: parts.contains(.rollups) || parts.contains(.hourlyRollups) ? entry.data.rollups : nil, rolledUp: entry.data.rolledUp,
            hourlyMask: entry.data.hourlyMask)
    }

    /// Keeps the blocks a page of `segment` loaded, for the next page (the one that loaded
    /// more, when two pages give theirs back).
    func keep(_ blocks: ColumnBlocks, of segment: SegmentInfo) {
        let kept = blocks.kept
        state.withLock { s in
            guard var e = s.sealed[segment.fileName], e.fromFile, kept.loadedBlocks > (e.blocks?.loadedBlocks ?? 0) else { return }
            e.blocks = kept
            s.sealed[segment.fileName] = e
            Sealed.evict(&s.sealed, budget: cacheBudget)
        }
    }

    /// For a scan that may stop early (a page): the view of `segment` without its column
    /// `parts`, and those columns as blocks that load as the scan reaches them — when the
    /// segment is sealed, its index file is of version 4 or later, and the columns are not in
    /// memory already. Otherwise (nil blocks) the view holds the columns, as ``view(_:parts:)``.
    /// The blocks are the caller's until it gives them back with ``keep(_:of:)``: the blocks an
    /// earlier page gave back are handed to the next, so that paging the newest records of a
    /// segment decompresses each block once.
    func scanView(_ segment: SegmentInfo, parts: Set<Part>) throws(AuditLogError) -> (view: IndexView, blocks: ColumnBlocks?) {
        let parts = Part.closure(parts)
        let columnParts = parts.filter { $0.isColumn }
        let cached = state.withLock { $0.sealed[segment.fileName] }
        guard segment.isSealed, !columnParts.isEmpty, !columnParts.isSubset(of: cached?.loaded ?? []) else {
            return (try view(segment, parts: parts), nil)
        }
        try segment.checkReadable()
        let rest = parts.subtracting(columnParts)
        let (entry, opened) = try sealedEntry(segment, parts: rest)
        // The blocks an earlier page gave back are this page's now (given back at its end).
        let kept = state.withLock { s -> ColumnBlocks.Kept? in
            defer { s.sealed[segment.fileName]?.blocks = nil }
            return s.sealed[segment.fileName]?.blocks
        }
        // The index file is opened only for what the kept blocks lack.
        var reader = opened
        let directory = self.directory
        let open = { () throws(AuditLogError) -> IndexFile.Reader in
            if let reader { return reader }
            guard let opened = try IndexFile.Reader(directory, segment: segment) else {
                throw AuditLogError(.corruption, "index file is missing", location: .init(file: segment.fileName))
            }
            return opened
        }
        if kept == nil, entry.fromFile { reader = try? open() }
        // A file that cannot give its blocks (of an older version, damaged) loads as a whole,
        // which rebuilds a damaged index.
        if entry.fromFile, kept != nil || (reader?.version ?? 0) >= 4,
            let blocks = try? ColumnBlocks(
                parts: columnParts, kept: kept, records: Int(segment.recordCount), displayName: LogDirectory.displayName(LogDirectory.name(of: .index, forSegment: segment.fileName)),
                dictionarySizes: entry.data.dictionaries.map(\.count), open: open)
        {
            let view = IndexView(
                segment: segment, frames: entry.data.frames, dictionaries: rest.contains(.dictionaries) ? entry.data.dictionaries : [], columns: nil,
                ids: nil, rollups: nil, rolledUp: entry.data.rolledUp, hourlyMask: entry.data.hourlyMask)
            return (view, blocks)
        }
        return (try view(segment, parts: parts), nil)
    }

    /// The cached index entry of `segment` with `parts` loaded (loading what is missing), and
    /// the reader that loaded its frame directory just now, if one did.
    private func sealedEntry(_ segment: SegmentInfo, parts: Set<Part>) throws(AuditLogError) -> (entry: Sealed, reader: IndexFile.Reader?) {
        // One lookup when the entry holds every part asked for (an id looked up in every
        // segment, a warm query): its use marked in place, nothing stored back.
        let (cached, complete) = state.withLock { s -> (Sealed?, Bool) in
            s.clock += 1
            guard let i = s.sealed.index(forKey: segment.fileName) else { return (nil, false) }
            s.sealed.values[i].lastUse = s.clock
            let e = s.sealed.values[i]
            return (e, parts.isSubset(of: e.loaded))
        }
        if let cached, complete { return (cached, nil) }
        var entry: Sealed
        // The reader that loaded the frame directory loads the parts too (one open, not two).
        var opened: IndexFile.Reader?
        if let cached {
            entry = cached
        } else {
            (entry, opened) = try loadSealed(segment)
        }
        let missing = parts.subtracting(entry.loaded)
        if !missing.isEmpty {
            entry = try loadParts(segment, into: entry, parts: missing, reader: opened)
        }
        let stored = entry
        // Something was loaded just now (a full hit returned above): it may take the cache over
        // its budget.
        state.withLock { s in
            s.clock += 1
            var e = stored
            e.lastUse = s.clock
            s.sealed[segment.fileName] = e
            Sealed.evict(&s.sealed, budget: cacheBudget)
        }
        return (entry, opened)
    }

    /// Why an index file cannot be used.
    private enum Unusable: Error {
        case missing
        case invalid(AuditLogError)

        var reason: String {
            switch self {
            case .missing: "the index file is missing"
            case .invalid(let error): error.message
            }
        }
    }

    /// The checked reader of `segment`'s index file.
    private func reader(_ segment: SegmentInfo) throws(Unusable) -> IndexFile.Reader {
        let reader: IndexFile.Reader?
        do throws(AuditLogError) { reader = try IndexFile.Reader(directory, segment: segment) } catch { throw .invalid(error) }
        guard let reader else { throw .missing }
        return reader
    }

    /// The frame directory from the file (and the reader that read it), or the whole index
    /// rebuilt from the segment.
    private func loadSealed(_ segment: SegmentInfo) throws(AuditLogError) -> (Sealed, IndexFile.Reader?) {
        do throws(Unusable) {
            let reader = try reader(segment)
            do throws(AuditLogError) {
                return (Sealed(data: try reader.loadDirectory(), loaded: [], lastUse: 0), reader)
            } catch {
                throw Unusable.invalid(error)
            }
        } catch {
            let pending = state.withLock { $0.pending.contains(segment.fileName) }
            return (try rebuild(segment, reason: pending ? nil : error.reason), nil)
        }
    }

    private func loadParts(_ segment: SegmentInfo, into entry: Sealed, parts: Set<Part>, reader opened: IndexFile.Reader? = nil) throws(AuditLogError) -> Sealed {
        var e = entry
        do throws(Unusable) {
            let reader: IndexFile.Reader
            if let opened { reader = opened } else { reader = try self.reader(segment) }
            for part in Part.loadOrder(parts) {
                do throws(AuditLogError) { try reader.load(part, into: &e.data) } catch { throw Unusable.invalid(error) }
                e.loaded.insert(part)
            }
            return e
        } catch {
            return try rebuild(segment, reason: error.reason)
        }
    }

    /// Rebuilds the whole index from the segment (reporting why, when `reason` is given) and,
    /// for a writer, writes it back atomically.
    private func rebuild(_ segment: SegmentInfo, reason: String?) throws(AuditLogError) -> Sealed {
        let data = try Self.build(directory, segment: segment, from: nil)
        if let reason { report(segment, reason) }
        var written = false
        if persists {
            do throws(AuditLogError) {
                try write(data, for: segment)
                written = true
            } catch {}
        }
        return Sealed(data: data, loaded: Part.all, lastUse: 0, fromFile: written)
    }

    private func report(_ segment: SegmentInfo, _ reason: String) {
        let name = LogDirectory.displayName(LogDirectory.name(of: .index, forSegment: segment.fileName))
        state.withLock { s in
            if s.reported.insert(name).inserted { s.rebuilds.append(IndexRebuild(file: name, reason: reason)) }
        }
    }

    private func write(_ data: IndexData, for segment: SegmentInfo) throws(AuditLogError) {
        var buffers = encodeBuffers.withLock { $0.take() } ?? IndexFile.EncodeBuffers()
        defer { encodeBuffers.withLock { $0 = buffers } }
        IndexFile.encode(data, binding: IndexFile.Binding(sealed: segment), into: &buffers)
        try directory.writeDerived(buffers.file.bytes, .index, of: segment.fileName)
    }

    // MARK: StorageObserver

    /// Builds and writes the index file of a segment just sealed, on a background queue,
    /// reusing what the in-memory index of the active segment already holds. (The segment's
    /// checkpoint, if any, goes with the first open that finds it sealed.)
    func segmentSealed(_ segment: SegmentInfo) {
        let partial = state.withLock { s -> (IndexBuilder, Int64)? in
            s.pending.insert(segment.fileName)
            s.lazyActive = nil
            defer { s.active = nil }
            guard let a = s.active, a.fileName == segment.fileName else { return nil }
            return (a.builder, a.scannedTo)
        }
        background.async { [self] in
            let resumed = partial ?? ActiveIndexCheckpoint.load(segment, directory: directory)
            defer { try? directory.removeDerived(.checkpoint, of: segment.fileName) }
            if let data = try? Self.build(directory, segment: segment, from: resumed) {
                let written = (try? write(data, for: segment)) != nil
                state.withLock { s in
                    s.clock += 1
                    // Keep the dictionaries and rollups (within the budget); columns and ids load
                    // from the file when needed.
                    var kept = data
                    kept.columns = IndexColumns()
                    kept.idHashes = []
                    kept.idOrdinals = []
                    s.sealed[segment.fileName] = Sealed(data: kept, loaded: [.dictionaries, .rollups, .hourlyRollups], lastUse: s.clock, fromFile: written)
                    Sealed.evict(&s.sealed, budget: cacheBudget)
                }
            }
            _ = state.withLock { $0.pending.remove(segment.fileName) }
        }
    }

    func segmentsRemoved(_ names: Set<String>) { forget(names) }

    func segmentUnsealed(_ name: String) { forget([name]) }

    /// Leaves a checkpoint of the active segment's index, so that the next open does not
    /// decode the segment to index it. Best effort: without one, the next open scans.
    func writerClosing(active: SegmentInfo?) {
        guard persists, let segment = active, !segment.isSealed, segment.recordCount > 0 else { return }
        do throws(AuditLogError) {
            let active = try activeIndex(segment)
            guard active.scannedTo == segment.dataEnd else { return }
            try ActiveIndexCheckpoint.write(active.builder, segment: segment, directory: directory)
        } catch {}
    }

    func resumePoint(ofActiveSegment name: String, limit: Int64) -> ResumePoint? {
        guard let (point, data) = ActiveIndexCheckpoint.resumePoint(directory, segment: name, limit: limit) else { return nil }
        let offered = LazyActive(fileName: name, recordCount: point.scan.recordCount, data: data, loaded: [])
        state.withLock { $0.offered = offered }
        return point
    }

    /// Storage confirmed the checkpoint's last frame: its frame directory serves the first
    /// query of a segment that ends there, which then neither reads it nor that frame again.
    func resumed(activeSegment name: String, at point: ResumePoint) {
        state.withLock { s in
            guard let offered = s.offered, offered.fileName == name, offered.recordCount == point.scan.recordCount else { return }
            s.offered = nil
            if let lazy = s.lazyActive, lazy.fileName == name, lazy.recordCount == offered.recordCount { return }
            s.lazyActive = offered
        }
    }

    func idHashes(ofSealed segment: SegmentInfo) -> [(hash: UInt32, seq: UInt64)]? {
        guard let ids = try? view(segment, parts: [.ids]).ids, ids.sorted, ids.hashes.count == ids.ordinals.count, ids.hashes.count == Int(segment.recordCount) else {
            return nil
        }
        return zip(ids.hashes, ids.ordinals).map { ($0, segment.firstSeq.rawValue + UInt64($1)) }
    }

    func committedEnd(ofActiveSegment name: String) -> Int64? {
        ActiveIndexCheckpoint.coveredEnd(directory, segment: name)
    }

    /// The bytes of `segment`'s index file with every section's checksum checked, for the
    /// archive. Index files are written without a sync, and a power cut can tear one past the
    /// header and directory that ``repairSealedIndexes(_:)`` checks at open; one that fails is
    /// rebuilt from the segment first. Runs on the indexer's queue, after the work queued there
    /// (the index of a segment just sealed). Nil when there is no index and none can be written.
    func checkedFileBytes(_ segment: SegmentInfo) -> [UInt8]? {
        background.sync { () -> [UInt8]? in
            func whole() throws(Unusable) -> [UInt8] {
                let reader = try reader(segment)
                do throws(AuditLogError) {
                    try reader.checkSections()
                    return try reader.file.readAll()
                } catch {
                    throw .invalid(error)
                }
            }
            do throws(Unusable) { return try whole() } catch {
                guard rewriteFile(segment, reason: error.reason) else { return nil }
                return try? whole()
            }
        }
    }

    /// Checks every sealed segment's index header and rebuilds (in the background) the ones
    /// that are missing, stale or damaged. The writer calls this at open.
    func repairSealedIndexes(_ segments: [SegmentInfo]) {
        for segment in segments where segment.isSealed {
            do throws(Unusable) {
                _ = try reader(segment)
            } catch {
                let reason = error.reason
                state.withLock { _ = $0.pending.insert(segment.fileName) }
                background.async { [self] in
                    _ = rewriteFile(segment, reason: reason)
                    _ = state.withLock { $0.pending.remove(segment.fileName) }
                }
            }
        }
    }

    /// Builds `segment`'s index from the segment, writes it in place of its file and reports
    /// why; false when it cannot be built or written (or this store does not write).
    private func rewriteFile(_ segment: SegmentInfo, reason: String) -> Bool {
        guard persists, let data = try? Self.build(directory, segment: segment, from: nil), (try? write(data, for: segment)) != nil else { return false }
        report(segment, reason)
        return true
    }

    /// Whether `segment` has a valid index file (only its header is checked).
    func state(of segment: SegmentInfo) -> IndexState {
        guard segment.isSealed else { return .memory }
        do throws(Unusable) {
            _ = try reader(segment)
            return .file
        } catch {
            switch error {
            case .missing: return .missing
            case .invalid(let cause): return .invalid(cause.message)
            }
        }
    }

    /// Drops cached indexes of deleted segments.
    func forget(_ names: Set<String>) {
        waitForBackgroundWork()
        state.withLock { s in
            for name in names { s.sealed[name] = nil }
            if let lazy = s.lazyActive, names.contains(lazy.fileName) { s.lazyActive = nil }
        }
    }

    /// Waits until background index work queued so far has finished (tests, close).
    func waitForBackgroundWork() {
        background.sync {}
    }

    // MARK: The active segment

    private func activeView(_ segment: SegmentInfo, parts: Set<Part>) throws(AuditLogError) -> IndexView {
        if let view = lazyActiveView(segment, parts: parts) { return view }
        let active = try activeIndex(segment)
        // The snapshot may cover less than the builder (another reader scanned further).
        let data = active.builder.data
        let count = Int(segment.recordCount)
        var columns: IndexColumns?
        if parts.contains(where: { $0.isColumn }) {
            var c = data.columns
            if c.count > count { c = c.prefix(count) }
            columns = c
        }
        var frames = data.frames
        while let last = frames.last, last.firstSeq.rawValue + UInt64(last.recordCount) > segment.firstSeq.rawValue + UInt64(count) {
            frames.removeLast()
        }
        let ids = parts.contains(.ids) ? IndexView.IDs(hashes: Array(active.builder.idHashesInOrder.prefix(count)), ordinals: [], sorted: false) : nil
        return IndexView(segment: segment, frames: frames, dictionaries: data.dictionaries, columns: columns, ids: ids, rollups: nil)
    }

    /// The view of the active segment from its checkpoint's parts, loading only those asked
    /// for, when the checkpoint covers the whole segment and no index of it is in memory yet;
    /// nil otherwise (the caller builds the index to extend it).
    private func lazyActiveView(_ segment: SegmentInfo, parts: Set<Part>) -> IndexView? {
        let (building, cached) = state.withLock { s in (s.active?.fileName == segment.fileName, s.lazyActive) }
        guard !building else { return nil }
        var entry: LazyActive
        // The reader that just vouched for the checkpoint loads its parts too (one open, not two).
        var vouched: IndexFile.Reader?
        if let cached, cached.fileName == segment.fileName, cached.recordCount == segment.recordCount {
            entry = cached
        } else {
            guard let checkpoint = ActiveIndexCheckpoint.exact(segment, directory: directory) else { return nil }
            entry = LazyActive(fileName: segment.fileName, recordCount: segment.recordCount, data: checkpoint.data, loaded: [])
            vouched = checkpoint.reader
        }
        let missing = parts.filter { !$0.isRollup && !entry.loaded.contains($0) }
        if !missing.isEmpty {
            guard let reader = vouched ?? ActiveIndexCheckpoint.exactReader(segment, directory: directory) else { return nil }
            for part in Part.loadOrder(missing) {
                do throws(AuditLogError) { try reader.load(part, into: &entry.data) } catch { return nil }
                entry.loaded.insert(part)
            }
        }
        let stored = entry
        state.withLock { $0.lazyActive = stored }
        return IndexView(
            segment: segment, frames: entry.data.frames, dictionaries: parts.contains(.dictionaries) ? entry.data.dictionaries : [],
            columns: parts.contains { $0.isColumn } ? entry.data.columns : nil,
            ids: parts.contains(.ids) ? IndexView.IDs(hashes: entry.data.idHashes, ordinals: entry.data.idOrdinals, sorted: true) : nil,
            rollups: nil)
    }

    /// The in-memory index of the active segment, brought up to the snapshot's end: continued
    /// from what is already in memory, else from the checkpoint the last writer left, else
    /// built by scanning the segment.
    private func activeIndex(_ segment: SegmentInfo) throws(AuditLogError) -> Active {
        var active =
            state.withLock { s -> Active? in
                guard let a = s.active, a.fileName == segment.fileName else { return nil }
                return a
            } ?? ActiveIndexCheckpoint.load(segment, directory: directory).map { Active(fileName: segment.fileName, builder: $0.builder, scannedTo: $0.coveredTo) }
            ?? Active(fileName: segment.fileName, builder: IndexBuilder(firstSeq: segment.firstSeq), scannedTo: Int64(SegmentHeader.byteCount))
        if active.scannedTo < segment.dataEnd {
            let walker = try SegmentWalker(directory, segment.fileName, limit: segment.dataEnd)
            active.scannedTo = try active.builder.scan(walker, from: active.scannedTo)
        }
        let updated = active
        state.withLock { s in
            if s.active == nil || s.active?.fileName == updated.fileName && (s.active?.scannedTo ?? 0) < updated.scannedTo {
                s.active = updated
            }
        }
        return active
    }
}
