/// The `LOCK` file: an exclusive `flock` held by the one writer of a log for as long as it is
/// open. The kernel drops it when the process exits, however it exits.
final class LockFile: @unchecked Sendable {
    // Only `release` mutates, and it is idempotent under the writer queue.
    private let file: SystemFile

    private init(file: SystemFile) { self.file = file }

    static func acquire(_ paths: LogPaths, creatingDirectory: Bool) throws(AuditLogError) -> LockFile {
        if creatingDirectory { try SystemFile.makeDirectory(paths.directory) }
        let file = try SystemFile.openForWriting(paths.lock, displayName: "LOCK", create: true)
        guard try file.tryLockExclusive() else {
            throw AuditLogError(
                .locked, "another process holds the log for writing (lock file '\(paths.lock)')",
                location: .init(file: paths.lock))
        }
        return LockFile(file: file)
    }

    func release() { file.close() }
}
