/// A file system in memory (leveldb's `MemEnv`): a whole log without a disk, for tests that
/// need exact control of every byte (the per-error-path tests of the segment walker) and for
/// fuzzing segments. Paths are plain strings; directories are whatever was made with
/// ``makeDirectory(_:)``. Thread-safe; files opened twice share their bytes.
@_spi(Testing)
public final class MemoryFileSystem: FileSystem, Sendable {
    final class Data: @unchecked Sendable {
        // Guarded by the file system's lock.
        var bytes: [UInt8] = []
    }

    private struct State {
        var files: [String: Data] = [:]
        var directories: Set<String> = []
        var locks: Set<String> = []
    }

    private let state = Locked(State())

    public init() {}

    /// The bytes of the file at `path` (tests).
    public func contents(of path: String) -> [UInt8]? {
        state.withLock { $0.files[path]?.bytes }
    }

    /// Replaces the bytes of the file at `path`, creating it (tests).
    public func setContents(of path: String, to bytes: [UInt8]) {
        state.withLock { s in
            let data = s.files[path] ?? Data()
            data.bytes = bytes
            s.files[path] = data
        }
    }

    private func missing(_ call: String, _ name: String) -> AuditLogError {
        PosixFileSystem.failure(call, name, code: ENOENT)
    }

    public func openForReading(_ path: String, displayName: String) throws(AuditLogError) -> any SegmentFile {
        guard let data = state.withLock({ $0.files[path] }) else { throw missing("open", displayName) }
        return MemoryFile(data: data, fileSystem: self, displayName: displayName)
    }

    public func openForWriting(_ path: String, displayName: String, create: Bool, exclusive: Bool) throws(AuditLogError) -> any SegmentFile {
        let result: Result<Data, AuditLogError> = state.withLock { s in
            if let existing = s.files[path] {
                if exclusive { return .failure(PosixFileSystem.failure("open", displayName, code: EEXIST)) }
                return .success(existing)
            }
            guard create else { return .failure(missing("open", displayName)) }
            guard s.directories.contains(Self.parent(of: path)) else { return .failure(missing("open", displayName)) }
            let data = Data()
            s.files[path] = data
            return .success(data)
        }
        return MemoryFile(data: try result.get(), fileSystem: self, displayName: displayName)
    }

    public func remove(_ path: String) throws(AuditLogError) {
        _ = state.withLock { $0.files.removeValue(forKey: path) }
    }

    public func rename(_ from: String, to: String, displayName: String) throws(AuditLogError) {
        let moved = state.withLock { s -> Bool in
            guard let data = s.files.removeValue(forKey: from) else { return false }
            s.files[to] = data
            return true
        }
        guard moved else { throw missing("rename", displayName) }
    }

    public func syncDirectory(_ path: String) throws(AuditLogError) {
        guard isDirectory(path) else { throw missing("open", path) }
    }

    public func listDirectory(_ path: String) throws(AuditLogError) -> [String] {
        let prefix = path.hasSuffix("/") ? path : path + "/"
        return try state.withLock { (s) throws(AuditLogError) -> [String] in
            guard s.directories.contains(path) else { throw missing("opendir", path) }
            let names =
                s.files.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
                + s.directories.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            return names.filter { !$0.contains("/") }
        }
    }

    public func makeDirectory(_ path: String) throws(AuditLogError) {
        _ = state.withLock { $0.directories.insert(path) }
    }

    public func fileExists(_ path: String) -> Bool {
        state.withLock { $0.files[path] != nil || $0.directories.contains(path) }
    }

    public func fileSize(_ path: String) -> Int64? {
        guard let data = state.withLock({ $0.files[path] }) else { return nil }
        return withData(data) { Int64($0.count) }
    }

    public func isDirectory(_ path: String) -> Bool {
        // The root and the current directory always exist (a log at `/log` syncs `/`).
        path == "/" || path == "." || state.withLock { $0.directories.contains(path) }
    }

    public func lockExclusive(_ path: String, displayName: String) throws(AuditLogError) -> (any FileLock)? {
        let taken = state.withLock { s -> Bool in
            if s.files[path] == nil { s.files[path] = Data() }
            return s.locks.insert(path).inserted
        }
        return taken ? MemoryLock(path: path, fileSystem: self) : nil
    }

    func unlock(_ path: String) {
        _ = state.withLock { $0.locks.remove(path) }
    }

    func withData<T>(_ data: Data, _ body: (inout [UInt8]) -> T) -> T {
        state.withLock { _ in body(&data.bytes) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }
}

/// A file of a ``MemoryFileSystem``.
final class MemoryFile: SegmentFile {
    private let data: MemoryFileSystem.Data
    private let fileSystem: MemoryFileSystem
    let displayName: String

    init(data: MemoryFileSystem.Data, fileSystem: MemoryFileSystem, displayName: String) {
        self.data = data
        self.fileSystem = fileSystem
        self.displayName = displayName
    }

    func size() throws(AuditLogError) -> Int64 { fileSystem.withData(data) { Int64($0.count) } }

    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        return fileSystem.withData(data) { bytes in
            let start = Int(min(Int64(bytes.count), max(0, offset)))
            let n = min(count, bytes.count - start)
            if n > 0 { buffer.replaceSubrange(0..<n, with: bytes[start..<(start + n)]) }
            return n
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) {
        fileSystem.withData(data) { stored in
            let end = Int(offset) + bytes.count
            if stored.count < end { stored += repeatElement(0, count: end - stored.count) }
            stored.replaceSubrange(Int(offset)..<end, with: bytes)
        }
    }

    func sync() throws(AuditLogError) {}

    func truncate(to length: Int64) throws(AuditLogError) {
        fileSystem.withData(data) { stored in
            if stored.count > Int(length) { stored.removeSubrange(Int(length)...) } else { stored += repeatElement(0, count: Int(length) - stored.count) }
        }
    }

    func close() {}
}

/// A lock of a ``MemoryFileSystem``.
final class MemoryLock: FileLock, Sendable {
    let path: String
    let fileSystem: MemoryFileSystem

    init(path: String, fileSystem: MemoryFileSystem) {
        self.path = path
        self.fileSystem = fileSystem
    }

    func release() { fileSystem.unlock(path) }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
