import Crypto
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Uploads each sealed segment and its index to the archive, in the background, and evicts
/// local copies the archive confirmed once they are older than the local retention. A storage
/// observer: the writer tells it what sealed and what a sweep removed, and never waits for it
/// (the queue is names of sealed segments; the bytes stay on disk until uploaded).
///
/// Every object is written once (`If-None-Match: *`) with its SHA-256; an object already there
/// with the same checksum is a retry that succeeded before, one with another checksum is a
/// conflict, never overwritten. Only after a HEAD confirms size and checksum is the segment's
/// receipt (`.arc`) written; only a segment with a receipt is ever evicted.
final class ArchiveUploader: StorageObserver {
    private let directory: LogDirectory
    private let store: any ObjectStore
    private let options: ArchiveOptions
    /// `PREFIX/<log id>/`.
    let logPrefix: String
    /// The bytes of a sealed segment's index file, whole and checked (rebuilt from the segment
    /// first when it is damaged), after the index work queued before it; nil when it has none.
    typealias IndexSource = @Sendable (SegmentInfo) -> [UInt8]?
    private let indexBytes: IndexSource
    private let queue = DispatchQueue(label: "auditlog.archive", qos: .utility)
    /// What of the verifiable log to upload after an archived tree size (the facade's
    /// `treeObjects(after:)`): the newest checkpoint and the tiles it needs.
    typealias TreeSource = @Sendable (UInt64) throws(AuditLogError) -> (size: UInt64, objects: [(key: String, bytes: [UInt8])])?
    private let treeSource = Locked<TreeSource?>(nil)

    /// Where the newest signed checkpoint and its tiles come from (set once the log is open).
    func setTreeSource(_ source: @escaping TreeSource) {
        treeSource.withLock { $0 = source }
    }

    private struct State {
        /// Sealed segments not yet confirmed, oldest first.
        var pending: [SegmentInfo] = []
        /// Sealed segments with a local copy (eviction candidates).
        var local: [String: SegmentInfo] = [:]
        var draining = false
        var closing = false
        var manifestUploaded = false
        var uploadedSegments = 0
        var uploadedBytes: Int64 = 0
        var failures = 0
        var lastError: String?
        /// Segments whose object is in the store with other bytes (never retried).
        var conflicts: [String: String] = [:]
        var timer: (any DispatchSourceTimer)?
        /// Segments whose objects hold bytes of an earlier sealing: deleted before the upload
        /// (unless locked: then the upload is a conflict, and the segment stays local).
        var replaced: Set<String> = []
    }
    private let state = Locked(State())

    init(directory: LogDirectory, store: any ObjectStore, options: ArchiveOptions, logID: String, indexBytes: @escaping IndexSource) {
        self.directory = directory
        self.store = store
        self.options = options
        self.logPrefix = options.location.logPrefix(logID)
        self.indexBytes = indexBytes
    }

    /// Queues the sealed segments of `segments` that have no receipt (a previous writer's
    /// pending uploads), and evicts what is due.
    func start(with segments: [SegmentInfo]) {
        var stale: [String] = []
        state.withLock { s in
            for segment in segments where segment.damage == nil {
                let name = segment.fileName
                let local = directory.exists(name)
                let receiptFile = directory.exists(LogDirectory.name(of: .archived, forSegment: name))
                if receiptFile && local {
                    // A receipt of other bytes — the segment was sealed and uploaded, then
                    // reopened by a group that failed — or one that does not decode: it goes,
                    // and the upload replaces the objects.
                    let receipt = try? directory.archiveReceiptIfAny(of: name)
                    if !segment.isSealed || receipt?.size != segment.bytes {
                        stale.append(name)
                        s.replaced.insert(name)
                        if segment.isSealed { s.pending.append(segment) }
                    }
                } else if segment.isSealed && !receiptFile {
                    s.pending.append(segment)
                }
                if segment.isSealed && local { s.local[name] = segment }
            }
        }
        for name in stale { try? directory.removeDerived(.archived, of: name) }
        kick()
        // Segments age past the local retention while nothing seals.
        guard options.localRetention != nil else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        timer.schedule(deadline: .now() + .seconds(60), repeating: .seconds(60))
        timer.setEventHandler { [weak self] in self?.kick() }
        timer.resume()
        state.withLock { $0.timer = timer }
    }

    // MARK: StorageObserver

    func segmentSealed(_ segment: SegmentInfo) {
        state.withLock { s in
            s.pending.append(segment)
            s.local[segment.fileName] = segment
        }
        kick()
    }

    func segmentsRemoved(_ names: Set<String>) {
        state.withLock { s in
            s.pending.removeAll { names.contains($0.fileName) }
            for name in names { s.local[name] = nil }
        }
        // The archived copies go too, unless locked: those expire by themselves.
        guard options.objectLockDays == nil else { return }
        queue.async { [self] in
            for name in names.sorted() {
                try? store.delete(key(for: name))
                try? store.delete(key(for: LogDirectory.name(of: .index, forSegment: name)))
            }
        }
    }

    /// The segment grows again: a receipt of its sealed bytes would stand for bytes it no
    /// longer has. It goes now; the next upload of the segment replaces the objects.
    func segmentUnsealed(_ name: String) {
        state.withLock { s in
            s.pending.removeAll { $0.fileName == name }
            s.local[name] = nil
            s.replaced.insert(name)
        }
        try? directory.removeDerived(.archived, of: name)
    }

    func writerClosing(active: SegmentInfo?) {
        state.withLock { s in
            s.closing = true
            s.timer?.cancel()
            s.timer = nil
        }
    }

    /// Waits for pending uploads, at most ``ArchiveOptions/uploadTimeout``; what is left stays
    /// local for the next writer.
    func waitForBackgroundWork() {
        let deadline = Timestamp.now + options.uploadTimeout
        var idle = false
        while Timestamp.now < deadline {
            idle = state.withLock { s in !s.draining && !s.pending.contains { s.conflicts[$0.fileName] == nil } }
            if idle { break }
            usleep(10_000)
        }
        // A closing writer evicts what became due with these uploads (local retention 0s).
        if idle {
            queue.sync {
                publishTree()  // the checkpoint a closing writer signed last
                evictDue(attempts: 4)
            }
        }
        state.withLock { $0.closing = true }
    }

    func resumePoint(ofActiveSegment name: String, limit: Int64) -> ResumePoint? { nil }

    func resumed(activeSegment name: String, at point: ResumePoint) {}
    func committedEnd(ofActiveSegment name: String) -> Int64? { nil }
    func idHashes(ofSealed segment: SegmentInfo) -> [(hash: UInt32, seq: UInt64)]? { nil }

    // MARK: Status

    /// What is archived and what waits.
    func status() -> ArchiveStatus {
        state.withLock { s in
            ArchiveStatus(
                location: options.location.url, pendingSegments: s.pending.count, pendingBytes: s.pending.reduce(0) { $0 + $1.bytes },
                uploadedSegments: s.uploadedSegments, uploadedBytes: s.uploadedBytes, failures: s.failures, lastError: s.lastError,
                conflicts: s.conflicts.keys.sorted())
        }
    }

    // MARK: Work

    private func kick() {
        let start = state.withLock { s -> Bool in
            guard !s.draining, !s.closing else { return false }
            s.draining = true
            return true
        }
        if start { queue.async { [self] in drain() } }
    }

    /// Uploads pending segments oldest first, retrying with backoff (1 s doubling to 60 s, with
    /// jitter) until each is confirmed or the writer closes.
    private func drain() {
        var backoff = 1.0
        while true {
            let next = state.withLock { s -> SegmentInfo? in
                guard !s.closing else { return nil }
                return s.pending.first { s.conflicts[$0.fileName] == nil }
            }
            guard let segment = next else {
                if !state.withLock({ $0.closing }) {
                    publishTree()
                    evictDue(attempts: 4)
                }
                let more = state.withLock { s -> Bool in
                    if !s.closing, s.pending.contains(where: { s.conflicts[$0.fileName] == nil }) { return true }
                    s.draining = false
                    return false
                }
                if more { continue }
                return
            }
            do throws(AuditLogError) {
                try uploadManifestOnce()
                try upload(segment)
                backoff = 1.0
                publishTree()
                evictDue()
            } catch {
                let conflict = error.code == .corruption
                LibraryMetrics.archiveFailure()
                LibraryLog.warning(
                    conflict ? "archive conflict: the segment stays local" : "archive upload failed; retrying", ["segment": segment.fileName, "error": error.message])
                state.withLock { s in
                    s.failures += 1
                    s.lastError = error.message
                    if conflict { s.conflicts[segment.fileName] = error.message }
                }
                if !conflict {
                    let delay = backoff * Double.random(in: 0.5...1.0)
                    backoff = min(backoff * 2, 60)
                    sleep(seconds: delay)
                }
            }
        }
    }

    /// Uploads the newest signed checkpoint and the hash tiles it needs that are not archived
    /// yet (write-once, as segments), then records its tree size. A failure is counted and
    /// tried again after the next upload.
    private func publishTree() {
        guard let source = treeSource.withLock({ $0 }) else { return }
        do throws(AuditLogError) {
            guard let tree = try source(directory.archivedTreeSize()) else { return }
            try uploadManifestOnce()
            for object in tree.objects { _ = try put(logPrefix + object.key, object.bytes) }
            try directory.setArchivedTreeSize(tree.size)
        } catch {
            recordFailure(error)
        }
    }

    private func recordFailure(_ error: AuditLogError) {
        LibraryMetrics.archiveFailure()
        state.withLock { s in
            s.failures += 1
            s.lastError = error.message
        }
    }

    /// Sleeps, waking early when the writer closes.
    private func sleep(seconds: Double) {
        let until = Timestamp.now + .milliseconds(Int64(seconds * 1000))
        while Timestamp.now < until, !state.withLock({ $0.closing }) { usleep(20_000) }
    }

    private func key(for fileName: String) -> String { logPrefix + "segments/" + fileName }

    private func uploadManifestOnce() throws(AuditLogError) {
        guard !state.withLock({ $0.manifestUploaded }) else { return }
        let bytes = try directory.fileSystem.openForReading(directory.manifestPath, displayName: LogManifest.fileName).readAll()
        _ = try put(logPrefix + LogManifest.fileName, bytes)
        state.withLock { $0.manifestUploaded = true }
    }

    /// Uploads a segment and its index, confirms both, writes the receipt.
    private func upload(_ segment: SegmentInfo) throws(AuditLogError) {
        let name = segment.fileName
        let done = { self.state.withLock { s in s.pending.removeAll { $0.fileName == name } } }
        guard !directory.exists(LogDirectory.name(of: .archived, forSegment: name)) else { return done() }
        guard directory.exists(name) else { return done() }  // swept meanwhile
        if state.withLock({ $0.replaced.contains(name) }) && options.objectLockDays == nil {
            try store.delete(key(for: name))
            try store.delete(key(for: LogDirectory.name(of: .index, forSegment: name)))
        }
        let bytes = try directory.open(name).readAll()
        guard bytes.count >= SegmentHeader.byteCount + SegmentFooter.byteCount, Int64(bytes.count) == segment.bytes else {
            throw AuditLogError(.io, "segment is \(bytes.count) bytes, the catalog says \(segment.bytes)", location: .init(file: LogDirectory.displayName(name)))
        }
        let sha = try put(key(for: name), bytes)

        let indexName = LogDirectory.name(of: .index, forSegment: name)
        var receipt = ArchiveReceipt(
            segment: name, key: key(for: name), size: Int64(bytes.count), sha256: sha, header: Array(bytes[0..<SegmentHeader.byteCount]),
            footer: Array(bytes[(bytes.count - SegmentFooter.byteCount)...]), confirmedAt: .now, retainUntil: retainUntil())
        // Checked whole, not only read: an index file is written without a sync, and one a
        // power cut tore must not become the archived copy every remote reader fetches.
        if let index = indexBytes(segment) {
            receipt.indexSHA256 = try put(key(for: indexName), index)
            receipt.indexKey = key(for: indexName)
            receipt.indexSize = Int64(index.count)
        }
        receipt.confirmedAt = .now
        // A sweep may have removed it while it uploaded: its receipt would stand for it.
        let stillHere = state.withLock { s in s.pending.contains { $0.fileName == name } && !s.closing }
        guard stillHere, directory.exists(name) else { return done() }
        try directory.writeDerived(receipt.encoded(), .archived, of: name)
        state.withLock { s in
            s.replaced.remove(name)
            s.uploadedSegments += 1
            s.uploadedBytes += Int64(bytes.count)
        }
        LibraryMetrics.uploaded(bytes: bytes.count)
        done()
    }

    /// Writes an object once and confirms it: returns its SHA-256.
    private func put(_ key: String, _ bytes: [UInt8]) throws(AuditLogError) -> [UInt8] {
        let sha = Array(SHA256.hash(data: bytes))
        let outcome = try store.put(key, bytes, sha256: sha, retainUntil: retainUntil())
        guard let info = try store.head(key) else {
            throw AuditLogError(.archive, "the object is not there after it was written", location: .init(file: store.describe(key)))
        }
        let same = info.size == Int64(bytes.count) && Self.matches(info, sha256: sha, bytes: bytes)
        guard same else {
            if outcome == .exists {
                throw AuditLogError(
                    .corruption, "a different object is already archived under this key (\(info.size) bytes); it is never overwritten",
                    location: .init(file: store.describe(key)))
            }
            throw AuditLogError(.archive, "the store holds \(info.size) bytes with another checksum after the upload", location: .init(file: store.describe(key)))
        }
        return sha
    }

    /// Whether the store's checksum (SHA-256, else a single-part ETag's MD5) is the bytes'.
    static func matches(_ info: ObjectInfo, sha256: [UInt8], bytes: [UInt8]) -> Bool {
        if let stored = info.sha256 { return stored == sha256 }
        if let etag = info.etag, etag.utf8.count == 32 { return etag.lowercased() == Hex.encode(Insecure.MD5.hash(data: bytes)) }
        return false
    }

    private func retainUntil() -> Timestamp? {
        options.objectLockDays.map { Timestamp.now + .days(Int64($0)) }
    }

    /// Evicts local copies whose newest event is older than the local retention, once a HEAD
    /// confirms the archived object still matches the receipt. A segment whose check fails
    /// stays local (the failure is counted) and is tried again next time; returns whether every
    /// due segment went.
    @discardableResult
    func evictDue() -> Bool {
        guard let retention = options.localRetention else { return true }
        let cutoff = Timestamp.now - retention
        let candidates = state.withLock { s in
            s.local.values.filter { ($0.maxTimestamp ?? Timestamp(nanosSinceEpoch: .max)) < cutoff || retention == .zero }
                .sorted { $0.firstSeq < $1.firstSeq }
        }
        var all = true
        for segment in candidates {
            guard !state.withLock({ $0.closing }) else { return false }
            do throws(AuditLogError) {
                try evict(segment.fileName)
            } catch {
                all = false
                recordFailure(error)
            }
        }
        return all
    }

    /// ``evictDue()`` until everything due went, at most `attempts` times with backoff.
    private func evictDue(attempts: Int) {
        var delay = 0.2
        for attempt in 1...attempts {
            if evictDue() || attempt == attempts { return }
            sleep(seconds: delay)
            delay *= 2
        }
    }

    private func evict(_ name: String) throws(AuditLogError) {
        // Not confirmed yet: it waits for its upload.
        guard let receipt = try directory.archiveReceiptIfAny(of: name) else { return }
        guard directory.exists(name) else {
            _ = state.withLock { $0.local.removeValue(forKey: name) }
            return
        }
        guard let info = try store.head(receipt.key), info.size == receipt.size, info.sha256 == nil || info.sha256 == receipt.sha256 else {
            throw AuditLogError(.archive, "the archived object no longer matches its receipt: the local copy is kept", location: .init(file: store.describe(receipt.key)))
        }
        var evictIndex = false
        if let indexKey = receipt.indexKey, let indexInfo = try store.head(indexKey) {
            evictIndex = indexInfo.size == receipt.indexSize && (indexInfo.sha256 == nil || indexInfo.sha256 == receipt.indexSHA256)
        }
        try directory.evict(name, index: evictIndex)
        _ = state.withLock { $0.local.removeValue(forKey: name) }
    }
}

/// The archive's progress: what is uploaded, what waits, what failed.
public struct ArchiveStatus: Sendable, Hashable {
    /// `s3://BUCKET/PREFIX`.
    public var location: String
    /// Sealed segments not yet confirmed in the archive.
    public var pendingSegments: Int
    /// Their bytes.
    public var pendingBytes: Int64
    /// Segments this writer uploaded since it opened.
    public var uploadedSegments: Int
    /// Their bytes.
    public var uploadedBytes: Int64
    /// Failed requests (each retried).
    public var failures: Int
    /// The last failure's message.
    public var lastError: String?
    /// Segments whose key holds a different object in the store (never overwritten).
    public var conflicts: [String]
}
