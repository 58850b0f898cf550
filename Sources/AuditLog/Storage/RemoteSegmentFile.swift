import Foundation

/// How a log reads what it archived: the object store, and the local cache of blocks read
/// back. A log directory with evicted segments needs one (``LogDirectory/remote``).
final class RemoteReads: Sendable {
    let store: any ObjectStore
    let cache: BlockCache?
    /// Reads are made in blocks of this many bytes (aligned), each cached on its own.
    let blockSize: Int

    init(store: any ObjectStore, cache: BlockCache?, blockSize: Int = 1 << 20) {
        self.store = store
        self.cache = cache
        self.blockSize = blockSize
    }

    /// The same store without the cache: every read goes to the store (``Verifier`` checks the
    /// archive itself, not a copy of it).
    var uncached: RemoteReads { RemoteReads(store: store, cache: nil, blockSize: blockSize) }
}

/// An archived object read as a segment file: ranged GETs of aligned blocks, through the
/// block cache, with the bytes a receipt keeps (header, footer) answered without a request. The
/// format's checks (XXH3 of every frame, the chain) apply to these bytes as to a local file's.
final class RemoteSegmentFile: SegmentFile {
    let displayName: String
    /// Nil without the archive: only `known` bytes can be read.
    private let source: BlockSource?
    private let unreachable: String
    private let objectSize: Int64
    private let known: [(offset: Int64, bytes: [UInt8])]
    /// The last block read (sequential reads of a frame's header and payload share it).
    private var lastBlock: (index: Int64, bytes: [UInt8])?

    /// `reads` nil: the archive is not reachable from here; a read beyond `known` fails with
    /// `unreachable` as its message.
    init(reads: RemoteReads?, key: String, size: Int64, sha256: [UInt8], known: [(offset: Int64, bytes: [UInt8])] = [], unreachable: String = "") {
        let displayName = reads?.store.describe(key) ?? key
        self.source = reads.map { BlockSource(reads: $0, key: key, objectSize: size, cacheName: Hex.encode(sha256), displayName: displayName) }
        self.objectSize = size
        self.known = known
        self.unreachable = unreachable
        self.displayName = displayName
    }

    func size() throws(AuditLogError) -> Int64 { objectSize }

    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
        guard offset >= 0, count > 0, offset < objectSize else { return 0 }
        let n = Int(min(Int64(count), objectSize - offset))
        if buffer.count < n { buffer.append(contentsOf: repeatElement(0, count: n - buffer.count)) }
        for (start, bytes) in known where offset >= start && offset + Int64(n) <= start + Int64(bytes.count) {
            let from = Int(offset - start)
            buffer.withUnsafeMutableBufferPointer { dst in
                bytes.withUnsafeBufferPointer { src in
                    _ = UnsafeMutableBufferPointer(rebasing: dst[0..<n]).initialize(from: src[from..<(from + n)])
                }
            }
            return n
        }
        guard let source else { throw AuditLogError(.archive, unreachable, location: .init(file: displayName, offset: offset)) }
        let blockSize = Int64(source.reads.blockSize)
        var done = 0
        while done < n {
            let position = offset + Int64(done)
            let index = position / blockSize
            let block = try self.block(index)
            let within = Int(position - index * blockSize)
            let take = min(n - done, block.count - within)
            guard take > 0 else {
                throw AuditLogError(.archive, "the object is shorter than its receipt says (\(objectSize) bytes)", location: .init(file: displayName, offset: position))
            }
            buffer.withUnsafeMutableBufferPointer { dst in
                block.withUnsafeBufferPointer { src in
                    _ = UnsafeMutableBufferPointer(rebasing: dst[done..<(done + take)]).initialize(from: src[within..<(within + take)])
                }
            }
            done += take
        }
        return n
    }

    private func block(_ index: Int64) throws(AuditLogError) -> [UInt8] {
        if let lastBlock, lastBlock.index == index { return lastBlock.bytes }
        guard let source else { throw AuditLogError(.archive, unreachable, location: .init(file: displayName)) }
        let bytes: [UInt8]
        if let cached = source.cached(index) { bytes = cached } else { bytes = try source.fetch(index) }
        lastBlock = (index, bytes)
        return bytes
    }

    /// Blocks fetched at once by ``willNeed(_:)``.
    static let concurrentFetches = 8

    /// Fetches the blocks of `ranges` that the block cache lacks, up to
    /// ``concurrentFetches`` at a time, into the cache, where the reads that follow find them:
    /// a sparse read of an archived segment otherwise waits for one ranged GET after another.
    /// Without a cache (``RemoteReads/uncached``, or none configured), nothing: the blocks would
    /// have nowhere to wait. A block that fails to come is left to the read, which says why.
    func willNeed(_ ranges: [Range<Int64>]) {
        guard let source, let cache = source.reads.cache else { return }
        let blockSize = Int64(source.reads.blockSize)
        var missing: [Int64] = []
        for range in ranges {
            let lower = Swift.max(0, range.lowerBound)
            let upper = Swift.min(objectSize, range.upperBound)
            guard lower < upper else { continue }
            for index in (lower / blockSize)...((upper - 1) / blockSize)
            where index != lastBlock?.index && missing.last != index && !cache.contains(source.cacheName, block: index) {
                missing.append(index)
            }
        }
        guard missing.count > 1 else { return }
        // Threads of their own: the fetches wait on the network, not on a core, so as many run
        // at once as asked whatever the machine's cores (a dispatch pool would run two here).
        let list = missing
        let workers = Swift.min(Self.concurrentFetches, list.count)
        let done = DispatchGroup()
        for worker in 0..<workers {
            done.enter()
            let thread = Thread {
                for i in stride(from: worker, to: list.count, by: workers) { _ = try? source.fetch(list[i]) }
                done.leave()
            }
            thread.start()
        }
        done.wait()
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) { throw readOnly() }
    func sync() throws(AuditLogError) {}
    func truncate(to length: Int64) throws(AuditLogError) { throw readOnly() }
    func close() { lastBlock = nil }

    private func readOnly() -> AuditLogError {
        AuditLogError(.io, "an archived segment is never written", location: .init(file: displayName))
    }
}

/// The blocks of one archived object: what fetching one takes, apart from the file reading it
/// (so that ``RemoteSegmentFile/willNeed(_:)`` fetches several on other threads).
private struct BlockSource: Sendable {
    let reads: RemoteReads
    let key: String
    let objectSize: Int64
    /// The cache's name for the object: its SHA-256, so a cached block is never stale.
    let cacheName: String
    let displayName: String

    /// Block `index` from the cache, when it holds it whole.
    func cached(_ index: Int64) -> [UInt8]? {
        reads.cache?.read(cacheName, block: index, length: length(of: index))
    }

    /// Bytes of block `index` (the last one may be short).
    func length(of index: Int64) -> Int {
        Int(min(Int64(reads.blockSize), objectSize - index * Int64(reads.blockSize)))
    }

    /// Block `index` from the store, kept in the cache.
    func fetch(_ index: Int64) throws(AuditLogError) -> [UInt8] {
        let start = index * Int64(reads.blockSize)
        let length = length(of: index)
        let bytes = try reads.store.get(key, range: start..<(start + Int64(length)))
        guard bytes.count == length else {
            throw AuditLogError(
                .archive, "a ranged read returned \(bytes.count) bytes where \(length) were asked (the object is not the one archived)",
                location: .init(file: displayName, offset: start))
        }
        reads.cache?.store(cacheName, block: index, bytes)
        return bytes
    }
}
