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
    private let reads: RemoteReads?
    private let unreachable: String
    private let key: String
    private let objectSize: Int64
    /// The cache's name for the object: its SHA-256, so a cached block is never stale.
    private let cacheName: String
    private let known: [(offset: Int64, bytes: [UInt8])]
    /// The last block read (sequential reads of a frame's header and payload share it).
    private var lastBlock: (index: Int64, bytes: [UInt8])?

    /// `reads` nil: the archive is not reachable from here; a read beyond `known` fails with
    /// `unreachable` as its message.
    init(reads: RemoteReads?, key: String, size: Int64, sha256: [UInt8], known: [(offset: Int64, bytes: [UInt8])] = [], unreachable: String = "") {
        self.reads = reads
        self.key = key
        self.objectSize = size
        self.cacheName = Hex.encode(sha256)
        self.known = known
        self.unreachable = unreachable
        self.displayName = reads?.store.describe(key) ?? key
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
        guard let reads else { throw AuditLogError(.archive, unreachable, location: .init(file: displayName, offset: offset)) }
        let blockSize = Int64(reads.blockSize)
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
        guard let reads else { throw AuditLogError(.archive, unreachable, location: .init(file: displayName)) }
        let blockSize = Int64(reads.blockSize)
        let start = index * blockSize
        let length = Int(min(blockSize, objectSize - start))
        let bytes: [UInt8]
        if let cached = reads.cache?.read(cacheName, block: index, length: length) {
            bytes = cached
        } else {
            bytes = try reads.store.get(key, range: start..<(start + Int64(length)))
            guard bytes.count == length else {
                throw AuditLogError(
                    .archive, "a ranged read returned \(bytes.count) bytes where \(length) were asked (the object is not the one archived)",
                    location: .init(file: displayName, offset: start))
            }
            reads.cache?.store(cacheName, block: index, bytes)
        }
        lastBlock = (index, bytes)
        return bytes
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) { throw readOnly() }
    func sync() throws(AuditLogError) {}
    func truncate(to length: Int64) throws(AuditLogError) { throw readOnly() }
    func close() { lastBlock = nil }

    private func readOnly() -> AuditLogError {
        AuditLogError(.io, "an archived segment is never written", location: .init(file: displayName))
    }
}
