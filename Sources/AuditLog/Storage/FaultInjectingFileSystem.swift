#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// I/O faults on purpose, for the reliability tests (docs/RELIABILITY.md): a file system that
/// passes every call to another one (the real one, usually) unless one of its rules says to
/// fail it. A log opened on it (``AuditLog/open(directory:options:fileSystem:)``) takes the
/// faults; nothing else does, so tests running side by side never see each other's faults and
/// production code pays nothing for the seam. Not API: SPI for the test suite and its crash
/// harness (`@_spi(Testing) import AuditLog`).
@_spi(Testing)
public final class FaultInjectingFileSystem: FileSystem, Sendable {
    /// The calls a rule can fail.
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case write, sync, truncate, create, rename, remove, syncDirectory
    }

    /// What happens to a matching call.
    public enum Fault: Sendable, Hashable {
        /// The call fails with this errno (`EIO`, `ENOSPC`, …) and changes nothing.
        case fail(Int32)
        /// A write stores the first half of its bytes, then fails with this errno.
        case shortWrite(Int32)
        /// The process kills itself with SIGKILL instead of making the call (crash tests).
        case crash
        /// The call is left out but reports success: a sync the code forgot (the power-cut
        /// test's own check that its file system notices a missing directory fsync).
        case skip
    }

    /// Which calls fail, and how.
    public struct Rule: Sendable {
        public var operation: Operation
        /// Only paths that contain this (a file suffix such as `.seg`, or a directory name).
        public var matching: String
        /// Matching calls that pass before the first fault.
        public var after: Int
        /// Faults to inject before the rule retires itself; nil: until ``clear()``.
        public var times: Int?
        public var fault: Fault
        var seen = 0
        var injected = 0

        public init(operation: Operation, matching: String = "", after: Int = 0, times: Int? = 1, fault: Fault) {
            self.operation = operation
            self.matching = matching
            self.after = after
            self.times = times
            self.fault = fault
        }
    }

    let base: any FileSystem
    private let rules = Locked<[Rule]>([])
    private let injectedTotal = Locked(0)

    /// Wraps `base` (by default the operating system's).
    public init(wrapping base: any FileSystem = PosixFileSystem()) {
        self.base = base
    }

    /// Adds a rule.
    public func inject(_ rule: Rule) {
        rules.withLock { $0.append(rule) }
    }

    /// Removes every rule.
    public func clear() {
        rules.withLock { $0.removeAll() }
    }

    /// Faults injected so far.
    public var injectedCount: Int { injectedTotal.withLock { $0 } }

    /// The hints a file can be given besides its reads and writes.
    enum Hint { case willNeed, startWriteback }

    private let hints = Locked<[(hint: Hint, path: String, range: Range<Int64>)]>([])

    /// The read-ahead hints (``SegmentFile/willNeed(_:)``) its files were given, in order: how
    /// the tests see a query's prefetching. They reach the wrapped file too.
    public var readHints: [(path: String, range: Range<Int64>)] { given(.willNeed) }

    /// The write-back hints (``SegmentFile/startWriteback(_:)``) its files were given, in
    /// order. They reach the wrapped file too.
    public var writebackHints: [(path: String, range: Range<Int64>)] { given(.startWriteback) }

    private func given(_ hint: Hint) -> [(path: String, range: Range<Int64>)] {
        hints.withLock { $0.filter { $0.hint == hint }.map { ($0.path, $0.range) } }
    }

    func record(_ hint: Hint, _ path: String, _ range: Range<Int64>) { hints.withLock { $0.append((hint, path, range)) } }

    /// The fault for this call, if a rule says so; `.crash` never returns.
    func fault(_ operation: Operation, _ path: String) -> Fault? {
        let fault = rules.withLock { r -> Fault? in
            guard let i = r.firstIndex(where: { $0.operation == operation && ($0.matching.isEmpty || path.contains($0.matching)) }) else { return nil }
            r[i].seen += 1
            guard r[i].seen > r[i].after else { return nil }
            r[i].injected += 1
            let fault = r[i].fault
            if let times = r[i].times, r[i].injected >= times { r.remove(at: i) }
            return fault
        }
        guard let fault else { return nil }
        injectedTotal.withLock { $0 += 1 }
        if fault == .crash { _ = kill(getpid(), SIGKILL) }
        return fault
    }

    /// Throws the fault a rule injects into this call; false when the call is to be skipped.
    func check(_ operation: Operation, _ path: String, _ name: String) throws(AuditLogError) -> Bool {
        guard let fault = fault(operation, path) else { return true }
        if fault == .skip { return false }
        throw PosixFileSystem.failure(Self.call(operation), name, code: Self.errno(of: fault))
    }

    static func errno(of fault: Fault) -> Int32 {
        switch fault {
        case .fail(let code), .shortWrite(let code): code
        case .crash, .skip: EIO
        }
    }

    static func call(_ operation: Operation) -> String {
        switch operation {
        case .write: "pwrite"
        case .sync: "fdatasync"
        case .truncate: "ftruncate"
        case .create: "open"
        case .rename: "rename"
        case .remove: "unlink"
        case .syncDirectory: "fsync"
        }
    }

    public func openForReading(_ path: String, displayName: String) throws(AuditLogError) -> any SegmentFile {
        FaultInjectingFile(try base.openForReading(path, displayName: displayName), path: path, fileSystem: self)
    }

    public func openForWriting(_ path: String, displayName: String, create: Bool, exclusive: Bool) throws(AuditLogError) -> any SegmentFile {
        if create { _ = try check(.create, path, displayName) }
        let file = try base.openForWriting(path, displayName: displayName, create: create, exclusive: exclusive)
        return FaultInjectingFile(file, path: path, fileSystem: self)
    }

    public func remove(_ path: String) throws(AuditLogError) {
        guard try check(.remove, path, path) else { return }
        try base.remove(path)
    }

    public func rename(_ from: String, to: String, displayName: String) throws(AuditLogError) {
        guard try check(.rename, to, displayName) else { return }
        try base.rename(from, to: to, displayName: displayName)
    }

    public func syncDirectory(_ path: String) throws(AuditLogError) {
        guard try check(.syncDirectory, path, path) else { return }
        try base.syncDirectory(path)
    }

    public func listDirectory(_ path: String) throws(AuditLogError) -> [String] { try base.listDirectory(path) }
    public func makeDirectory(_ path: String) throws(AuditLogError) { try base.makeDirectory(path) }
    public func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    public func fileSize(_ path: String) -> Int64? { base.fileSize(path) }
    public func fileSizes(in path: String, names: [String]) -> [Int64?] { base.fileSizes(in: path, names: names) }
    public func isDirectory(_ path: String) -> Bool { base.isDirectory(path) }

    public func lockExclusive(_ path: String, displayName: String) throws(AuditLogError) -> (any FileLock)? {
        try base.lockExclusive(path, displayName: displayName)
    }
}

/// A file whose writes, syncs and truncations ask its ``FaultInjectingFileSystem`` first.
final class FaultInjectingFile: SegmentFile {
    private let file: any SegmentFile
    private let path: String
    private let fileSystem: FaultInjectingFileSystem

    init(_ file: any SegmentFile, path: String, fileSystem: FaultInjectingFileSystem) {
        self.file = file
        self.path = path
        self.fileSystem = fileSystem
    }

    var displayName: String { file.displayName }
    func size() throws(AuditLogError) -> Int64 { try file.size() }
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
        try file.read(into: &buffer, count: count, at: offset)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) {
        guard let fault = fileSystem.fault(.write, path) else { return try file.write(bytes, at: offset) }
        if fault == .skip { return }
        if case .shortWrite = fault {
            try file.write(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count / 2)]), at: offset)
            throw PosixFileSystem.failure("pwrite", displayName, code: FaultInjectingFileSystem.errno(of: fault), offset: offset + Int64(bytes.count / 2))
        }
        throw PosixFileSystem.failure("pwrite", displayName, code: FaultInjectingFileSystem.errno(of: fault), offset: offset)
    }

    func sync() throws(AuditLogError) {
        guard try fileSystem.check(.sync, path, displayName) else { return }
        try file.sync()
    }

    func truncate(to length: Int64) throws(AuditLogError) {
        guard try fileSystem.check(.truncate, path, displayName) else { return }
        try file.truncate(to: length)
    }

    func willNeed(_ range: Range<Int64>) {
        fileSystem.record(.willNeed, path, range)
        file.willNeed(range)
    }

    func startWriteback(_ range: Range<Int64>) {
        fileSystem.record(.startWriteback, path, range)
        file.startWriteback(range)
    }

    func close() { file.close() }
}
