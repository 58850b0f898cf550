import AuditLogTestSupport

@testable import AuditLog

extension MotoServer {
    /// A client for `bucket`, signing with the IAM user's key (or `secret`).
    func client(_ bucket: String, secret: String? = nil) throws -> S3Client {
        try S3Client(
            location: ArchiveLocation(url: "s3://\(bucket)", endpoint: endpoint),
            credentials: .init(accessKey: accessKey, secretKey: secret ?? secretKey))
    }
}
