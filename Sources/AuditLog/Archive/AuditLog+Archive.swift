/// Where a segment stands with the archive.
package enum SegmentArchiveState: String, Sendable, Hashable {
    /// The log has no archive, or the segment is active.
    case none
    /// Sealed, not yet confirmed in the archive.
    case pending
    /// Confirmed in the archive, local copy kept.
    case archived
    /// Confirmed in the archive, local copy evicted: read from the archive.
    case evicted
}

extension AuditLog {
    /// The archive the log uses: the one in `options`, else the one its directory remembers;
    /// with the store it talks to. Nil when there is none. Credentials come from `options` or the
    /// environment; without any, a writer given an archive fails, and otherwise the log opens
    /// without one (an evicted segment read then fails naming its object).
    static func resolveArchive(_ files: LogDirectory, _ options: AuditLogOptions) throws(AuditLogError) -> (ArchiveOptions, S3Client)? {
        let explicit = options.archive
        var found = explicit
        if found == nil { found = try ArchiveConfig.read(files) }
        guard let archive = found else { return nil }
        let credentials: ArchiveCredentials
        do throws(AuditLogError) {
            if let given = archive.credentials { credentials = given } else { credentials = try ArchiveCredentials.fromEnvironment() }
        } catch {
            if explicit != nil { throw error }
            return nil
        }
        let signer = SigV4.Credentials(accessKey: credentials.accessKeyID, secretKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken)
        return (archive, try S3Client(location: archive.location, credentials: signer))
    }

    /// The archive the log in `directory` remembers (`archive.json`, written by the first writer
    /// opened with ``AuditLogOptions/archive``), or nil. Local retention, cache size and upload
    /// timeout are not remembered: set them on the result to open with them.
    public static func rememberedArchive(in directory: String) throws(AuditLogError) -> ArchiveOptions? {
        try ArchiveConfig.read(LogDirectory(path: directory))
    }

    /// The archive's progress (uploads pending, done, failed), or nil without an archive. A
    /// read-only handle counts pending segments from the receipts on disk.
    public func archiveStatus() -> ArchiveStatus? {
        if let uploader = archiveUploader { return uploader.status() }
        guard let remote = files.remote else { return nil }
        let pending = snapshot.segments.filter { archiveState(of: $0) == .pending }
        return ArchiveStatus(
            location: remote.store.describe(""), pendingSegments: pending.count, pendingBytes: pending.reduce(0) { $0 + $1.bytes }, uploadedSegments: 0,
            uploadedBytes: 0, failures: 0, lastError: nil, conflicts: [])
    }

    /// Where `segment` stands with the archive.
    package func archiveState(of segment: SegmentInfo) -> SegmentArchiveState {
        guard segment.isSealed, archiveUploader != nil || files.remote != nil || files.isEvicted(segment.fileName) else { return .none }
        guard files.exists(LogDirectory.name(of: .archived, forSegment: segment.fileName)) else { return .pending }
        return files.exists(segment.fileName) ? .archived : .evicted
    }
}
