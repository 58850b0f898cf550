/// Where a log's sealed segments are archived: an S3 bucket and key prefix, at an endpoint.
///
/// Objects go under `PREFIX/<log id in hex>/`: the manifest, and `segments/` with each sealed
/// segment and its index (docs/ARCHIVE.md).
public struct ArchiveLocation: Sendable, Hashable {
    /// The bucket.
    public var bucket: String
    /// The key prefix, without leading or trailing `/` (may be empty).
    public var prefix: String
    /// `http(s)://HOST[:PORT]` of an S3-compatible service; nil for AWS in ``region``.
    public var endpoint: String?
    /// The region requests are signed for (`us-east-1` unless told).
    public var region: String
    /// `BUCKET.HOST` addressing instead of `HOST/BUCKET`. Path-style is the default whenever
    /// an endpoint is given (MinIO, R2 and moto accept it); AWS without an endpoint is
    /// virtual-hosted.
    public var virtualHosted: Bool

    /// Parses `s3://BUCKET[/PREFIX]`.
    public init(url: String, endpoint: String? = nil, region: String = "us-east-1", virtualHosted: Bool? = nil) throws(AuditLogError) {
        guard url.hasPrefix("s3://") else {
            throw AuditLogError(.invalidArgument, "archive '\(url)' is not an s3:// URL (write s3://BUCKET/PREFIX)", location: .init(field: "archive"))
        }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        guard Self.isValidBucket(bucket) else {
            throw AuditLogError(
                .invalidArgument, "archive bucket '\(bucket)' is not a valid bucket name (3–63 of a–z, 0–9, '.', '-')", location: .init(field: "archive"))
        }
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if let endpoint, endpoint.isEmpty {
            throw AuditLogError(.invalidArgument, "the S3 endpoint is empty", location: .init(field: "s3-endpoint"))
        }
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region.isEmpty ? "us-east-1" : region
        self.virtualHosted = virtualHosted ?? (endpoint == nil)
    }

    /// `s3://BUCKET/PREFIX`.
    public var url: String { "s3://" + bucket + (prefix.isEmpty ? "" : "/" + prefix) }

    /// The key prefix of one log's objects (`PREFIX/<log id>/`).
    func logPrefix(_ logID: String) -> String { (prefix.isEmpty ? "" : prefix + "/") + logID + "/" }

    private static func isValidBucket(_ name: String) -> Bool {
        (3...63).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 }
    }
}

/// Credentials for the object store. ``fromEnvironment()`` reads the standard variables. Its
/// description shows the access key id only: a logged option never shows the secret.
public struct ArchiveCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `AWS_ACCESS_KEY_ID`.
    public var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY`.
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    public var sessionToken: String?

    /// The access key id; never the secret or the session token.
    public var description: String { "ArchiveCredentials(accessKeyID: \(accessKeyID), secret redacted)" }
    /// As ``description``.
    public var debugDescription: String { description }

    /// Credentials given directly.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and the optional `AWS_SESSION_TOKEN`; an
    /// error naming the missing variable when either of the first two is unset.
    public static func fromEnvironment() throws(AuditLogError) -> ArchiveCredentials {
        func env(_ name: String) -> String? {
            guard let value = getenv(name) else { return nil }
            let s = String(cString: value)
            return s.isEmpty ? nil : s
        }
        guard let key = env("AWS_ACCESS_KEY_ID") else {
            throw AuditLogError(.invalidArgument, "the archive needs credentials: AWS_ACCESS_KEY_ID is not set", location: .init(field: "AWS_ACCESS_KEY_ID"))
        }
        guard let secret = env("AWS_SECRET_ACCESS_KEY") else {
            throw AuditLogError(.invalidArgument, "the archive needs credentials: AWS_SECRET_ACCESS_KEY is not set", location: .init(field: "AWS_SECRET_ACCESS_KEY"))
        }
        return ArchiveCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"))
    }
}

/// How a log archives its sealed segments (``AuditLogOptions/archive``): where, whether
/// objects are locked, how long local copies stay, how much archived data is cached locally.
public struct ArchiveOptions: Sendable, Hashable {
    /// The bucket and prefix.
    public var location: ArchiveLocation
    /// nil: from the environment (``ArchiveCredentials/fromEnvironment()``) when the log opens.
    public var credentials: ArchiveCredentials?
    /// Lock each uploaded object in COMPLIANCE mode for this many days (the bucket must have
    /// object lock enabled); nil: no lock.
    public var objectLockDays: Int?
    /// How long a closing writer waits for pending uploads; what is not uploaded by then stays
    /// local and the next writer uploads it.
    public var uploadTimeout: Duration = .seconds(60)
    /// Delete a local sealed segment once its upload is confirmed and its newest event is
    /// older than this (`.zero`: as soon as it is confirmed); nil keeps every local copy.
    public var localRetention: Duration?
    /// The byte budget of the local cache of archived data read back.
    public var cacheSizeBytes: Int64 = 1 << 30

    /// Archive to `location`.
    public init(location: ArchiveLocation) {
        self.location = location
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
