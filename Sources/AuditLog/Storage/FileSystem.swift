/// One open file of a log, as the storage layer sees it: positional reads and its size and,
/// when opened for writing, positional writes, a sync and a truncation. Every read and write of
/// a segment, index or manifest goes through one (leveldb's `RandomAccessFile`/`WritableFile`):
/// a file on disk (``PosixFileSystem``), a file in memory (``MemoryFileSystem``), or one that
/// fails on purpose (``FaultInjectingFileSystem``).
///
/// Not thread-safe: a file belongs to one owner at a time (the writer's queue, one reader).
@_spi(Testing)
public protocol SegmentFile: AnyObject {
    /// The path relative to the log directory, for error messages.
    var displayName: String { get }
    /// Its size in bytes now.
    func size() throws(AuditLogError) -> Int64
    /// Reads up to `count` bytes at `offset` into `buffer` (grown as needed); returns the bytes
    /// read, short only at the end of the file.
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int
    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError)
    /// Makes what was written durable (`fdatasync`).
    func sync() throws(AuditLogError)
    /// Cuts the file to `length` bytes.
    func truncate(to length: Int64) throws(AuditLogError)
    /// Closes it (idempotent).
    func close()
    /// A hint that the bytes of `range` will be read soon: a file on a disk starts reading them
    /// in the background, so that reads of many scattered ranges overlap instead of waiting
    /// one after another. Does nothing by default.
    func willNeed(_ range: Range<Int64>)
    /// A hint that the bytes of `range`, written, will be synced before long: a file on a disk
    /// starts writing them back now and returns, so that the sync finds less to wait for. Only
    /// a hint: it makes nothing durable and reports no error (the sync does). Does nothing by
    /// default.
    func startWriteback(_ range: Range<Int64>)
}

extension SegmentFile {
    public func willNeed(_ range: Range<Int64>) {}

    public func startWriteback(_ range: Range<Int64>) {}

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: [UInt8], at offset: Int64) throws(AuditLogError) {
        guard !bytes.isEmpty else { return }
        let result: Result<Void, AuditLogError> = bytes.withUnsafeBytes { raw in
            do throws(AuditLogError) { try write(raw, at: offset); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// All of the file's bytes (small files: manifests, kept cuts).
    package func readAll() throws(AuditLogError) -> [UInt8] {
        var buffer: [UInt8] = []
        let n = try read(into: &buffer, count: Int(try size()), at: 0)
        buffer.removeSubrange(n...)
        return buffer
    }
}

/// Where a log's files live, and the operations on names: opening, creating, renaming,
/// removing, listing, syncing a directory, locking. The storage layer makes every such call
/// through the log's ``LogDirectory``, never directly.
@_spi(Testing)
public protocol FileSystem: Sendable {
    /// Opens an existing file read-only.
    func openForReading(_ path: String, displayName: String) throws(AuditLogError) -> any SegmentFile
    /// Opens for reading and writing, creating the file when `create` (failing when it exists
    /// and `exclusive`).
    func openForWriting(_ path: String, displayName: String, create: Bool, exclusive: Bool) throws(AuditLogError) -> any SegmentFile
    /// Removes a file; a missing one is not an error.
    func remove(_ path: String) throws(AuditLogError)
    /// Renames `from` over `to`, atomically.
    func rename(_ from: String, to: String, displayName: String) throws(AuditLogError)
    /// Makes a directory's entries (new, renamed or removed files) durable.
    func syncDirectory(_ path: String) throws(AuditLogError)
    /// The names in a directory (no `.` or `..`).
    func listDirectory(_ path: String) throws(AuditLogError) -> [String]
    /// Creates a directory; an existing one is not an error.
    func makeDirectory(_ path: String) throws(AuditLogError)
    /// Whether anything is at `path`.
    func fileExists(_ path: String) -> Bool
    /// The size of the regular file at `path` (one `stat`, no open), nil when there is none.
    func fileSize(_ path: String) -> Int64?
    /// The sizes of the regular files `names` in the directory `path`, in order (nil for one
    /// there is none of): one call for many, which may spare resolving the whole path of each.
    func fileSizes(in path: String, names: [String]) -> [Int64?]
    /// Whether a directory is at `path`.
    func isDirectory(_ path: String) -> Bool
    /// Takes an exclusive lock on the file at `path` (created if needed) for as long as the
    /// returned lock is held; nil when another holder has it.
    func lockExclusive(_ path: String, displayName: String) throws(AuditLogError) -> (any FileLock)?
}

/// A held exclusive lock (see ``FileSystem/lockExclusive(_:displayName:)``).
@_spi(Testing)
public protocol FileLock: AnyObject, Sendable {
    /// Releases it (idempotent).
    func release()
}

extension FileSystem {
    public func fileSizes(in path: String, names: [String]) -> [Int64?] {
        names.map { fileSize(path + "/" + $0) }
    }

    /// Opens `path` for reading, or nil when nothing is there. The open is tried first and only
    /// one that fails asks whether the file exists (an error for a file that is there is
    /// thrown): one system call for a file that usually is there, where a look first made two.
    /// For a file usually missing, ``fileExists(_:)`` first stays the cheaper order.
    package func openForReadingIfPresent(_ path: String, displayName: String) throws(AuditLogError) -> (any SegmentFile)? {
        do throws(AuditLogError) {
            return try openForReading(path, displayName: displayName)
        } catch {
            guard fileExists(path) else { return nil }
            throw error
        }
    }

    /// Creates the directory `path` when missing and makes its name durable: after a `mkdir`,
    /// the parent directory is synced (a new directory's entry, like a file's, survives a power
    /// cut only once its parent is).
    package func makeDirectoryDurably(_ path: String) throws(AuditLogError) {
        guard !isDirectory(path) else { return }
        try makeDirectory(path)
        try syncDirectory(Self.parent(of: path))
    }

    /// The directory holding `path` (`.` for a bare name, `/` for a top-level one).
    static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Writes `bytes` to `path` atomically: a temporary file of its own (`.tmp-…`), sync,
    /// rename, sync of the directory (without either sync when not `durable`: derived files a
    /// crash may leave garbled or old, which their readers check). A failure removes the
    /// temporary file.
    package func writeAtomically(_ bytes: [UInt8], to path: String, directory: String, displayName: String, durable: Bool = true) throws(AuditLogError) {
        // A name of its own, so that two writers of the same file never share a temporary one.
        let temp = path + LogDirectory.temporaryInfix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let file = try openForWriting(temp, displayName: displayName + ".tmp", create: true, exclusive: false)
        do throws(AuditLogError) {
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            if durable { try file.sync() }
            file.close()
            try rename(temp, to: path, displayName: displayName)
        } catch {
            file.close()
            try? remove(temp)
            throw error
        }
        if durable { try syncDirectory(directory) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
