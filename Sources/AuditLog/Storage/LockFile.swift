import Foundation

/// The `LOCK` file: an exclusive lock held by the one writer of a log for as long as it is
/// open (a `flock` on disk: the kernel drops it when the process exits, however it exits).
///
/// Its text says who holds it (docs/FORMAT.md, "The lock file"): `pid <n>` and, for a server,
/// `url <base URL>`, one a line, so that a second writer can be told whom to ask instead.
final class LockFile: Sendable {
    private let lock: any FileLock
    private let directory: LogDirectory
    private let pid: Int32

    private init(lock: any FileLock, directory: LogDirectory) {
        self.lock = lock
        self.directory = directory
        pid = ProcessInfo.processInfo.processIdentifier
    }

    static func acquire(_ directory: LogDirectory, creatingDirectory: Bool) throws(AuditLogError) -> LockFile {
        if creatingDirectory { try directory.fileSystem.makeDirectoryDurably(directory.path) }
        guard let lock = try directory.fileSystem.lockExclusive(directory.lockPath, displayName: "LOCK") else {
            let holder = LogWriterHolder.read(directory)
            throw AuditLogError(
                .locked, "another process holds the log for writing (\(holder.map { "\($0); " } ?? "")lock file '\(directory.lockPath)')",
                location: .init(file: directory.lockPath))
        }
        let file = LockFile(lock: lock, directory: directory)
        file.describe(url: nil)
        return file
    }

    /// Writes who holds the lock into the file; best effort (the flock is what excludes).
    func describe(url: String?) {
        let text = "pid \(pid)\n" + (url.map { "url \($0)\n" } ?? "")
        guard let file = try? directory.fileSystem.openForWriting(directory.lockPath, displayName: "LOCK", create: true, exclusive: false) else { return }
        defer { file.close() }
        try? file.truncate(to: 0)
        try? file.write(Array(text.utf8), at: 0)
    }

    func release() { lock.release() }
}

/// Who holds a log's write lock, as its `LOCK` file says.
public struct LogWriterHolder: Sendable, Equatable, CustomStringConvertible {
    /// The holder's process id.
    public var pid: Int32?
    /// The base URL of the server holding it (`auditlog serve`), when it is one.
    public var url: String?

    /// "pid 123, serving http://127.0.0.1:8080".
    public var description: String {
        [pid.map { "pid \($0)" }, url.map { "serving \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }

    /// What the lock file of the log in `directory` says, or nil when it says nothing (no
    /// lock file, an empty one, or text of a version that wrote none).
    public static func read(directory: String) -> LogWriterHolder? {
        read(LogDirectory(path: directory, fileSystem: PosixFileSystem()))
    }

    static func read(_ directory: LogDirectory) -> LogWriterHolder? {
        guard let file = try? directory.fileSystem.openForReading(directory.lockPath, displayName: "LOCK"),
            let bytes = try? file.readAll()
        else { return nil }
        file.close()
        var holder = LogWriterHolder()
        // At most a few hundred bytes are looked at: the file is not trusted.
        for line in String(decoding: bytes.prefix(1024), as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "pid": holder.pid = Int32(parts[1])
            case "url" where parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://"): holder.url = String(parts[1].prefix(300))
            default: continue
            }
        }
        return holder.pid == nil && holder.url == nil ? nil : holder
    }
}
