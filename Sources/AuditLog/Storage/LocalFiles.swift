/// Small files of this package's services beside a log (webhook subscriptions and cursors),
/// read and replaced with the storage layer's own calls: atomically (temporary file, fsync,
/// rename, fsync of the directory), each failure an ``AuditLogError`` naming the file.
package enum LocalFiles {
    private static let fileSystem = PosixFileSystem()

    /// The file's bytes, or nil when it does not exist.
    package static func read(_ path: String, displayName: String) throws(AuditLogError) -> [UInt8]? {
        guard fileSystem.fileExists(path) else { return nil }
        let file = try fileSystem.openForReading(path, displayName: displayName)
        defer { file.close() }
        return try file.readAll()
    }

    /// Replaces the file `path` in `directory` with `bytes`, durably.
    package static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String, displayName: String) throws(AuditLogError) {
        try fileSystem.writeAtomically(bytes, to: path, directory: directory, displayName: displayName)
    }

    /// Creates `path` (one level) when missing, readable by the owner only.
    package static func makePrivateDirectory(_ path: String) throws(AuditLogError) {
        guard !fileSystem.isDirectory(path) else { return }
        try fileSystem.makeDirectoryDurably(path)
        _ = chmod(path, 0o700)
    }

    /// Removes the file when it exists.
    package static func remove(_ path: String) {
        if fileSystem.fileExists(path) { try? fileSystem.remove(path) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
