import CAuditLogPosix
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The operating system's file system: POSIX calls, each failure an ``AuditLogError`` with code
/// ``AuditLogError/Code/io``, the file named and the errno as cause (``SystemCallError``).
@_spi(Testing)
public struct PosixFileSystem: FileSystem {
    public init() {}

    static func failure(_ call: String, _ name: String, code: Int32 = Glibc.errno, offset: Int64? = nil) -> AuditLogError {
        let reason = String(cString: strerror(code))
        return AuditLogError(
            .io, "\(call) failed: \(reason)", location: .init(file: name, offset: offset),
            cause: SystemCallError(call: call, errno: code, reason: reason))
    }

    public func openForReading(_ path: String, displayName: String) throws(AuditLogError) -> any SegmentFile {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open", displayName) }
        return PosixFile(fd: fd, displayName: displayName)
    }

    public func openForWriting(_ path: String, displayName: String, create: Bool, exclusive: Bool) throws(AuditLogError) -> any SegmentFile {
        // Never through a symbolic link: a link planted in the log's directory would otherwise
        // have the writer overwrite whatever file it names (`ELOOP`, reported as an error).
        var flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw Self.failure("open", displayName) }
        return PosixFile(fd: fd, displayName: displayName)
    }

    public func remove(_ path: String) throws(AuditLogError) {
        guard unlink(path) == 0 || Glibc.errno == ENOENT else { throw Self.failure("unlink", path) }
    }

    public func rename(_ from: String, to: String, displayName: String) throws(AuditLogError) {
        guard Glibc.rename(from, to) == 0 else { throw Self.failure("rename", displayName) }
    }

    public func syncDirectory(_ path: String) throws(AuditLogError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open", path) }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw Self.failure("fsync", path) }
    }

    public func listDirectory(_ path: String) throws(AuditLogError) -> [String] {
        guard let dir = opendir(path) else { throw Self.failure("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func makeDirectory(_ path: String) throws(AuditLogError) {
        if mkdir(path, 0o755) != 0 && Glibc.errno != EEXIST { throw Self.failure("mkdir", path) }
    }

    public func fileExists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Names per worker below which ``fileSizes(in:names:)`` asks on one thread: an `fstatat`
    /// is ~1 µs of the kernel's path walk, and two threads only gained from ~256 names on.
    static let namesPerStatWorker = 128

    /// One `open` of the directory, then an `fstatat` of each name relative to it — shared
    /// among up to four threads when there are many names. An open asks about every sealed
    /// segment (a year of daily segments: 365 calls), so its cost grows with the log's history;
    /// RocksDB checks its table files on several threads at an open for the same reason.
    public func fileSizes(in path: String, names: [String]) -> [Int64?] {
        let dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return names.map { _ in nil } }
        defer { close(dir) }
        @Sendable func size(_ name: String) -> Int64? {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Int64(st.st_size)
        }
        let workers = min(4, activeProcessorCount(), names.count / Self.namesPerStatWorker)
        guard workers > 1 else { return names.map(size) }
        // Contiguous runs, each worker writing only its own.
        let chunk = (names.count + workers - 1) / workers
        let runs = Locked([[Int64?]](repeating: [], count: workers))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let run = names[min(names.count, w * chunk)..<min(names.count, (w + 1) * chunk)].map(size)
            runs.withLock { $0[w] = run }
        }
        return runs.withLock { $0.flatMap { $0 } }
    }

    public func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    public func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// `flock(LOCK_EX | LOCK_NB)` on the file: the kernel drops it when the process exits,
    /// however it exits.
    public func lockExclusive(_ path: String, displayName: String) throws(AuditLogError) -> (any FileLock)? {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure("open", displayName) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return PosixLock(fd: fd) }
        let code = Glibc.errno
        _ = Glibc.close(fd)
        if code == EWOULDBLOCK { return nil }
        throw Self.failure("flock", displayName, code: code)
    }
}

/// A POSIX file descriptor.
final class PosixFile: SegmentFile {
    private var fd: Int32
    let displayName: String

    init(fd: Int32, displayName: String) {
        self.fd = fd
        self.displayName = displayName
    }

    deinit { close() }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// `posix_fadvise(WILLNEED)`: the kernel queues the reads of what is not cached yet and
    /// returns. Only a hint: a failure changes nothing (and Darwin, without the call, ignores it).
    func willNeed(_ range: Range<Int64>) {
        #if canImport(Glibc)
            guard fd >= 0, !range.isEmpty else { return }
            _ = posix_fadvise(fd, off_t(range.lowerBound), off_t(range.count), POSIX_FADV_WILLNEED)
        #endif
    }

    /// `sync_file_range(SYNC_FILE_RANGE_WRITE)`: the kernel queues the range's dirty pages for
    /// writing and returns without waiting (RocksDB's `bytes_per_sync`, PostgreSQL's
    /// `checkpoint_flush_after`). The result is ignored: without `SYNC_FILE_RANGE_WAIT_AFTER`
    /// the call does not collect a write-back error, so the next `fdatasync` still reports it.
    /// Elsewhere than Linux the hint is ignored.
    func startWriteback(_ range: Range<Int64>) {
        guard fd >= 0, !range.isEmpty else { return }
        _ = auditlog_start_writeback(fd, range.lowerBound, Int64(range.count))
    }

    func size() throws(AuditLogError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw PosixFileSystem.failure("fstat", displayName) }
        return Int64(st.st_size)
    }

    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
        if buffer.count < count {
            // A new buffer is written by the reads themselves, not zeroed first (index sections
            // and frames are up to megabytes); what a short read leaves is zeroed.
            var done = 0
            var failure: Int32 = 0
            buffer = [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
                guard let base = raw.baseAddress else { return }
                done = readFully(base, count: count, at: offset, failure: &failure)
                (base + done).initialize(repeating: 0, count: count - done)
                initialized = count
            }
            if failure != 0 { throw PosixFileSystem.failure("pread", displayName, code: failure, offset: offset) }
            return done
        }
        var failure: Int32 = 0
        let done = buffer.withUnsafeMutableBytes { raw in
            raw.baseAddress.map { readFully($0.assumingMemoryBound(to: UInt8.self), count: count, at: offset, failure: &failure) } ?? 0
        }
        if failure != 0 { throw PosixFileSystem.failure("pread", displayName, code: failure, offset: offset) }
        return done
    }

    /// Reads up to `count` bytes at `offset` into `base`, retrying short reads until the end of
    /// the file; the bytes read. `failure` is set to the errno of a read that failed.
    private func readFully(_ base: UnsafeMutablePointer<UInt8>, count: Int, at offset: Int64, failure: inout Int32) -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                failure = Glibc.errno
                break
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw PosixFileSystem.failure("pwrite", displayName, offset: offset + Int64(done))
            }
            done += n
        }
    }

    func sync() throws(AuditLogError) {
        guard fdatasync(fd) == 0 else { throw PosixFileSystem.failure("fdatasync", displayName) }
    }

    func truncate(to length: Int64) throws(AuditLogError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw PosixFileSystem.failure("ftruncate", displayName, offset: length) }
    }
}

/// An `flock` held on an open descriptor; closing the descriptor releases it.
final class PosixLock: FileLock, @unchecked Sendable {
    // Only `release` mutates, and it runs once (the writer's close).
    private var fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { release() }

    func release() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}

/// A failed system call: its name and errno.
package struct SystemCallError: Error, Sendable, CustomStringConvertible {
    /// The call, e.g. `pwrite`.
    package var call: String
    /// The errno value.
    package var errno: Int32
    /// `strerror(errno)`.
    package var reason: String

    /// Whether the call failed because the file does not exist (`ENOENT`).
    package var isNotFound: Bool { errno == ENOENT }

    package var description: String { "'\(call)' system call failed with '(\(errno)) \(reason)'" }
}
