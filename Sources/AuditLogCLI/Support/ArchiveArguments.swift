import ArgumentParser
import AuditLog

/// `--archive s3://BUCKET/PREFIX` and how to reach it, shared by every command that opens a log
/// (docs/ARCHIVE.md). Without `--archive`, the location the log directory remembers is used;
/// credentials always come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional
/// `AWS_SESSION_TOKEN`.
struct ArchiveArguments: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Archive sealed segments to (and read archived ones from) S3-compatible storage.",
            discussion: "Remembered in the log directory at first use; later commands need no flag.", valueName: "s3://bucket/prefix"))
    var archive: String?

    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("The S3 service (MinIO, R2, moto…); default AWS for the region.", valueName: "url"))
    var s3Endpoint: String?

    @Option(name: .customLong("s3-region"), help: ArgumentHelp("The region requests are signed for (default us-east-1).", valueName: "region"))
    var s3Region: String?

    @Flag(name: .customLong("s3-virtual-hosted"), help: "Address BUCKET.HOST instead of HOST/BUCKET (the default with --s3-endpoint).")
    var s3VirtualHosted = false

    @Option(name: .customLong("cache-size"), help: ArgumentHelp("Local cache of archived data read back (default 1GiB).", valueName: "size"))
    var cacheSize: String?

    func validate() throws {
        if archive == nil, s3Endpoint != nil || s3Region != nil || s3VirtualHosted {
            throw ValidationError("--s3-endpoint, --s3-region and --s3-virtual-hosted go with --archive s3://BUCKET/PREFIX")
        }
        if let cacheSize, ByteSize.parse(cacheSize) == nil {
            throw ValidationError("--cache-size '\(cacheSize)' is not a size such as 1GiB, 500MB or 1000000")
        }
    }

    /// The archive to open the log with: the flags, else (when a cache size or writer flag
    /// changes it) what `directory` remembers; nil leaves it to the library. `writer` adds what
    /// only a writer uses.
    func options(directory: String, writer: ArchiveWriterArguments? = nil) throws -> ArchiveOptions? {
        var options: ArchiveOptions?
        do {
            if let archive {
                options = ArchiveOptions(
                    location: try ArchiveLocation(url: archive, endpoint: s3Endpoint, region: s3Region ?? "us-east-1", virtualHosted: s3VirtualHosted ? true : nil))
            } else if cacheSize != nil || writer?.isGiven == true {
                options = try AuditLog.rememberedArchive(in: directory)
            } else {
                // The library reads what the directory remembers; without credentials it opens
                // the log anyway and fails only a read that needs the archive. A writer says
                // that it will not upload.
                if writer != nil, let remembered = try AuditLog.rememberedArchive(in: directory), (try? ArchiveCredentials.fromEnvironment()) == nil {
                    StandardError.print(
                        "auditlog: warning: this log archives to \(remembered.location.url), but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: sealed segments stay local until a writer has them"
                    )
                }
                return nil
            }
        } catch {
            throw CLIError(error)
        }
        guard var options else {
            if writer?.isGiven == true {
                throw CLIError(message: "--object-lock-days, --local-retention and --upload-timeout need an archive (--archive s3://BUCKET/PREFIX)", status: ExitStatus.usage)
            }
            return nil
        }
        if let cacheSize, let bytes = ByteSize.parse(cacheSize) { options.cacheSizeBytes = bytes }
        writer?.apply(to: &options)
        return options
    }
}

/// What only a writer with an archive uses (`ingest`, `serve`).
struct ArchiveWriterArguments: ParsableArguments {
    @Option(name: .customLong("object-lock-days"), help: ArgumentHelp("Lock each archived object in COMPLIANCE mode for N days (WORM).", valueName: "n"))
    var objectLockDays: Int?

    @Option(
        name: .customLong("local-retention"),
        help: ArgumentHelp("Delete local copies of archived segments whose newest event is older than this (0s: once confirmed).", valueName: "duration"))
    var localRetention: String?

    @Option(name: .customLong("upload-timeout"), help: ArgumentHelp("How long closing waits for pending uploads (default 60s).", valueName: "duration"))
    var uploadTimeout: String?

    var isGiven: Bool { objectLockDays != nil || localRetention != nil || uploadTimeout != nil }

    func validate() throws {
        if let objectLockDays, !(1...36_500).contains(objectLockDays) {
            throw ValidationError("--object-lock-days must be between 1 and 36500, got \(objectLockDays)")
        }
        for (flag, value) in [("--local-retention", localRetention), ("--upload-timeout", uploadTimeout)] {
            if let value, TimeExpression.durationNanos(value) == nil {
                throw ValidationError("\(flag) '\(value)' is not a duration such as 7d, 12h, 60s or 0s")
            }
        }
    }

    func apply(to options: inout ArchiveOptions) {
        if let objectLockDays { options.objectLockDays = objectLockDays }
        if let nanos = localRetention.flatMap(TimeExpression.durationNanos) { options.localRetention = .nanoseconds(nanos) }
        if let nanos = uploadTimeout.flatMap(TimeExpression.durationNanos) { options.uploadTimeout = .nanoseconds(nanos) }
    }
}
