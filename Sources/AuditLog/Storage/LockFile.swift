/// The `LOCK` file: an exclusive lock held by the one writer of a log for as long as it is
/// open (a `flock` on disk: the kernel drops it when the process exits, however it exits).
final class LockFile: Sendable {
    private let lock: any FileLock

    private init(lock: any FileLock) { self.lock = lock }

    static func acquire(_ directory: LogDirectory, creatingDirectory: Bool) throws(AuditLogError) -> LockFile {
        if creatingDirectory { try directory.fileSystem.makeDirectory(directory.path) }
        guard let lock = try directory.fileSystem.lockExclusive(directory.lockPath, displayName: "LOCK") else {
            throw AuditLogError(
                .locked, "another process holds the log for writing (lock file '\(directory.lockPath)')",
                location: .init(file: directory.lockPath))
        }
        return LockFile(lock: lock)
    }

    func release() { lock.release() }
}
