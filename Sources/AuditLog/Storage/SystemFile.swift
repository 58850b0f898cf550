#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX file descriptor with the handful of calls the log needs, each throwing
/// ``AuditLogError`` with the errno as cause and the file named. Not thread-safe on its own:
/// the writer confines its files to the writer queue; readers open their own.
final class SystemFile {
    private(set) var fd: Int32
    /// The path it was opened with.
    let path: String
    /// Path relative to the log directory, for error messages.
    let displayName: String

    private init(fd: Int32, path: String, displayName: String) {
        self.fd = fd
        self.path = path
        self.displayName = displayName
    }

    deinit {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    static func errno(_ op: String, _ name: String, offset: Int64? = nil) -> AuditLogError {
        failure(op, name, code: Glibc.errno, offset: offset)
    }

    static func failure(_ op: String, _ name: String, code: Int32, offset: Int64? = nil) -> AuditLogError {
        let reason = String(cString: strerror(code))
        return AuditLogError(
            .io, "\(op) failed: \(reason)", location: .init(file: name, offset: offset),
            cause: SystemCallError(call: op, errno: code, reason: reason))
    }

    /// Opens an existing file read-only.
    static func openForReading(_ path: String, displayName: String) throws(AuditLogError) -> SystemFile {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw errno("open", displayName) }
        return SystemFile(fd: fd, path: path, displayName: displayName)
    }

    /// Opens for reading and writing, creating when `create` (mode 0644).
    static func openForWriting(_ path: String, displayName: String, create: Bool, exclusive: Bool = false) throws(AuditLogError) -> SystemFile {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        if create, let fault = FaultInjection.fault(.create, path) {
            throw failure("open", displayName, code: FaultInjection.errno(of: fault))
        }
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw errno("open", displayName) }
        return SystemFile(fd: fd, path: path, displayName: displayName)
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    func size() throws(AuditLogError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Self.errno("fstat", displayName) }
        return Int64(st.st_size)
    }

    /// Reads up to `count` bytes at `offset` into `buffer` (resized); returns bytes read (short
    /// only at end of file).
    @discardableResult
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw Self.errno("pread", displayName, offset: offset)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) {
        var done = 0
        var count = bytes.count
        var injected: Int32?
        if let fault = FaultInjection.fault(.write, path) {
            guard case .shortWrite(let code) = fault else { throw Self.failure("pwrite", displayName, code: FaultInjection.errno(of: fault), offset: offset) }
            count /= 2
            injected = code
        }
        while done < count {
            let n = pwrite(fd, bytes.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw Self.errno("pwrite", displayName, offset: offset + Int64(done))
            }
            done += n
        }
        if let injected { throw Self.failure("pwrite", displayName, code: injected, offset: offset + Int64(done)) }
    }

    func write(_ bytes: [UInt8], at offset: Int64) throws(AuditLogError) {
        guard !bytes.isEmpty else { return }
        let result: Result<Void, AuditLogError> = bytes.withUnsafeBytes { raw in
            do throws(AuditLogError) { try write(raw, at: offset); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// `fdatasync`: the data (and the size) reach stable storage.
    func sync() throws(AuditLogError) {
        if let fault = FaultInjection.fault(.sync, path) { throw Self.failure("fdatasync", displayName, code: FaultInjection.errno(of: fault)) }
        guard fdatasync(fd) == 0 else { throw Self.errno("fdatasync", displayName) }
    }

    func truncate(to length: Int64) throws(AuditLogError) {
        if let fault = FaultInjection.fault(.truncate, path) { throw Self.failure("ftruncate", displayName, code: FaultInjection.errno(of: fault), offset: length) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw Self.errno("ftruncate", displayName, offset: length) }
    }

    /// Takes an exclusive `flock`; false when another open file description holds it.
    func tryLockExclusive() throws(AuditLogError) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if Glibc.errno == EWOULDBLOCK { return false }
        throw Self.errno("flock", displayName)
    }

    /// Makes a directory's entries (new, renamed or removed files) durable.
    static func syncDirectory(_ path: String) throws(AuditLogError) {
        if let fault = FaultInjection.fault(.syncDirectory, path) { throw failure("fsync", path, code: FaultInjection.errno(of: fault)) }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw errno("open", path) }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw errno("fsync", path) }
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, fsync directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String, displayName: String) throws(AuditLogError) {
        // A name of its own, so that two writers of the same file never share a temporary one.
        let temp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let file = try openForWriting(temp, displayName: displayName + ".tmp", create: true)
        do throws(AuditLogError) {
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            try file.sync()
        } catch {
            file.close()
            _ = unlink(temp)
            throw error
        }
        file.close()
        if let fault = FaultInjection.fault(.rename, path) {
            try? remove(temp)
            throw failure("rename", displayName, code: FaultInjection.errno(of: fault))
        }
        guard rename(temp, path) == 0 else { throw errno("rename", displayName) }
        try syncDirectory(directory)
    }

    static func fileExists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws(AuditLogError) {
        if mkdir(path, 0o755) != 0 && Glibc.errno != EEXIST { throw errno("mkdir", path) }
    }

    /// Names in a directory (no "." or "..").
    static func listDirectory(_ path: String) throws(AuditLogError) -> [String] {
        guard let dir = opendir(path) else { throw errno("opendir", path) }
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

    static func remove(_ path: String) throws(AuditLogError) {
        if let fault = FaultInjection.fault(.remove, path) { throw failure("unlink", path, code: FaultInjection.errno(of: fault)) }
        guard unlink(path) == 0 || Glibc.errno == ENOENT else { throw errno("unlink", path) }
    }
}

/// A failed system call: its name and errno.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    /// The call, e.g. `pwrite`.
    public var call: String
    /// The errno value.
    public var errno: Int32
    /// `strerror(errno)`.
    public var reason: String

    public var description: String { "'\(call)' system call failed with '(\(errno)) \(reason)'" }
}
