import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The few S3 requests an archive makes — conditional PUT, HEAD, ranged GET, DELETE,
/// ListObjectsV2 — signed with ``SigV4`` and sent with async-http-client. Any S3-compatible
/// store answers them (AWS S3, Cloudflare R2, MinIO, Ceph, moto).
///
/// Its calls block the calling thread until the answer (they run on the library's blocking
/// executor or the uploader's thread, never on the cooperative pool): segment reads are
/// synchronous (``SegmentFile``), and the archive reads through them.
final class S3Client: ObjectStore {
    let location: ArchiveLocation
    private let signer: SigV4
    private let client: HTTPClient
    private let timeout: TimeAmount
    /// `scheme://host[:port]` and the path before the key (`/bucket` when path-style).
    private let origin: String
    private let host: String
    private let basePath: String

    init(location: ArchiveLocation, credentials: SigV4.Credentials, timeout: Duration = .seconds(30)) throws(AuditLogError) {
        self.location = location
        self.signer = SigV4(credentials: credentials, region: location.region)
        self.client = Self.sharedClient
        self.timeout = .nanoseconds(timeout.nanoseconds)
        let endpoint = location.endpoint ?? "https://s3.\(location.region).amazonaws.com"
        guard let schemeEnd = endpoint.range(of: "://") else {
            throw AuditLogError(.invalidArgument, "S3 endpoint '\(endpoint)' is not a URL (write http://HOST:PORT or https://HOST)")
        }
        let scheme = String(endpoint[..<schemeEnd.lowerBound])
        var authority = String(endpoint[schemeEnd.upperBound...])
        while authority.hasSuffix("/") { authority.removeLast() }
        guard scheme == "http" || scheme == "https", !authority.isEmpty, !authority.contains("/") else {
            throw AuditLogError(.invalidArgument, "S3 endpoint '\(endpoint)' must be http(s)://HOST[:PORT] with no path")
        }
        if location.virtualHosted {
            host = location.bucket + "." + authority
            basePath = ""
        } else {
            host = authority
            basePath = "/" + SigV4.percentEncode(location.bucket)
        }
        origin = scheme + "://" + host
    }

    /// One client for every archive of the process (never shut down, like `HTTPClient.shared`):
    /// a refused connection fails the request at once instead of being retried until its
    /// deadline (the uploader retries with its own backoff), and redirects are not followed.
    private static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The `s3://bucket/key` an error names.
    func describe(_ key: String) -> String { "s3://\(location.bucket)/\(key)" }

    // MARK: ObjectStore

    func put(_ key: String, _ body: [UInt8], sha256: [UInt8], retainUntil: Timestamp?) throws(AuditLogError) -> PutOutcome {
        var headers = [
            ("if-none-match", "*"),
            ("x-amz-checksum-sha256", Base64.encode(sha256)),
            ("x-amz-sdk-checksum-algorithm", "SHA256"),
            ("content-type", "application/octet-stream"),
        ]
        if let retainUntil {
            headers.append(("x-amz-object-lock-mode", "COMPLIANCE"))
            headers.append(("x-amz-object-lock-retain-until-date", SigV4.isoSeconds(retainUntil)))
        }
        let response = try send("PUT", key, headers: headers, body: body, payloadHash: Hex.encode(sha256))
        switch response.status.code {
        case 200...299: return .created
        case 412: return .exists
        default: throw failure("PUT", key, response)
        }
    }

    func head(_ key: String) throws(AuditLogError) -> ObjectInfo? {
        let response = try send("HEAD", key, headers: [("x-amz-checksum-mode", "ENABLED")])
        switch response.status.code {
        case 200...299:
            let size = response.headers.first(name: "content-length").flatMap { Int64($0) } ?? -1
            let checksum = response.headers.first(name: "x-amz-checksum-sha256").flatMap { Base64.decode($0) }
            let etag = response.headers.first(name: "etag").map { $0.filter { $0 != "\"" } }
            return ObjectInfo(size: size, sha256: checksum, etag: etag, versionID: response.headers.first(name: "x-amz-version-id"))
        case 404: return nil
        default: throw failure("HEAD", key, response)
        }
    }

    /// Answers a read-through may retry: the store's transient failures (S3 asks clients to
    /// retry 500, 503 SlowDown and throttling; 502 and 504 come from proxies in front of it).
    static let transientStatuses: Set<UInt> = [429, 500, 502, 503, 504]

    /// A byte range of an object. A transient failure — a transient answer, or a connection
    /// that failed or dropped — is tried again twice (after 50 and 200 ms): a query reading an
    /// archived segment should not fail on one flaky answer. (A GET changes nothing.)
    func get(_ key: String, range: Range<Int64>) throws(AuditLogError) -> [UInt8] {
        guard !range.isEmpty else { return [] }
        let response = try sendRetrying("GET", key, headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
        guard response.status.code == 206 || response.status.code == 200 else { throw failure("GET", key, response) }
        var body = response.body ?? ByteBuffer()
        var bytes = body.readBytes(length: body.readableBytes) ?? []
        if response.status.code == 200 {
            // A store that ignored the range sent the whole object.
            let lower = Int(min(range.lowerBound, Int64(bytes.count)))
            let upper = Int(min(range.upperBound, Int64(bytes.count)))
            bytes = Array(bytes[lower..<upper])
        }
        return bytes
    }

    /// Sends a request that changes nothing, trying it again after 50 and 200 ms while it fails
    /// to connect or is answered with a ``transientStatuses`` code; the last try's error or
    /// answer stands.
    private func sendRetrying(_ method: String, _ key: String, headers: [(String, String)]) throws(AuditLogError) -> HTTPClient.Response {
        for pause: useconds_t in [50_000, 200_000] {
            if let response = try? send(method, key, headers: headers), !Self.transientStatuses.contains(response.status.code) {
                return response
            }
            usleep(pause)
        }
        return try send(method, key, headers: headers)
    }

    func delete(_ key: String) throws(AuditLogError) { try delete(key, versionID: nil) }

    /// Deletes one version of an object (in a versioned bucket, a DELETE without a version only
    /// adds a delete marker; object lock refuses this one until the retain-until date).
    func delete(_ key: String, versionID: String?) throws(AuditLogError) {
        let response = try send("DELETE", key, query: versionID.map { [("versionId", $0)] } ?? [], headers: [])
        guard (200...299).contains(response.status.code) || response.status.code == 404 else { throw failure("DELETE", key, response) }
    }

    func list(prefix: String) throws(AuditLogError) -> [ListedObject] {
        var objects: [ListedObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try send("GET", nil, query: query, headers: [])
            guard (200...299).contains(response.status.code) else { throw failure("LIST", prefix, response) }
            var body = response.body ?? ByteBuffer()
            let xml = body.readString(length: body.readableBytes) ?? ""
            for contents in XMLText.values(of: "Contents", in: xml, raw: true) {
                guard let key = XMLText.values(of: "Key", in: contents).first, let size = XMLText.values(of: "Size", in: contents).first.flatMap({ Int64($0) })
                else { continue }
                objects.append(ListedObject(key: key, size: size))
            }
            token = XMLText.values(of: "IsTruncated", in: xml).first == "true" ? XMLText.values(of: "NextContinuationToken", in: xml).first : nil
        } while token != nil
        return objects
    }

    // MARK: Requests

    private func send(
        _ method: String, _ key: String?, query: [(String, String)] = [], headers: [(String, String)], body: [UInt8] = [], payloadHash: String? = nil
    ) throws(AuditLogError) -> HTTPClient.Response {
        var path = basePath
        if let key { path += SigV4.encodePath(key) } else if path.isEmpty { path = "/" }
        let signed = headers + [("host", host)]
        let hash = payloadHash ?? (body.isEmpty ? SigV4.emptyPayloadHash : Hex.encode(SHA256.hash(data: body)))
        let auth = signer.sign(method: method, path: path, query: query, headers: signed, payloadHash: hash, time: .now)
        var fields = HTTPHeaders()
        for (name, value) in signed + auth { fields.add(name: name, value: value) }
        let queryString = query.isEmpty ? "" : "?" + query.map { SigV4.percentEncode($0.0) + "=" + SigV4.percentEncode($0.1) }.joined(separator: "&")
        let what = key.map(describe) ?? "s3://\(location.bucket)"
        do {
            let request = try HTTPClient.Request(
                url: origin + path + queryString, method: HTTPMethod(rawValue: method), headers: fields, body: body.isEmpty ? nil : .bytes(body))
            return try client.execute(request: request, deadline: .now() + timeout).wait()
        } catch {
            throw AuditLogError(.archive, "\(method) \(what): the object store could not be reached at \(origin) (\(error))", location: .init(file: what))
        }
    }

    private func failure(_ method: String, _ key: String, _ response: HTTPClient.Response) -> AuditLogError {
        var body = response.body ?? ByteBuffer()
        let xml = body.readString(length: min(body.readableBytes, 4096)) ?? ""
        let code = XMLText.values(of: "Code", in: xml).first.map { " \($0)" } ?? ""
        let message = XMLText.values(of: "Message", in: xml).first.map { ": \($0)" } ?? ""
        return AuditLogError(.archive, "\(method) \(describe(key)) answered HTTP \(response.status.code)\(code)\(message)", location: .init(file: describe(key)))
    }
}

/// The text of simple XML elements in an S3 answer (no attributes or nesting of the same name).
enum XMLText {
    /// `raw`: the inner XML as it is (to look inside it), else its text unescaped.
    static func values(of element: String, in xml: String, raw: Bool = false) -> [String] {
        var out: [String] = []
        var rest = Substring(xml)
        let open = "<\(element)>"
        let close = "</\(element)>"
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close) {
            let inner = String(rest[start.upperBound..<end.lowerBound])
            out.append(raw ? inner : unescape(inner))
            rest = rest[end.upperBound...]
        }
        return out
    }

    private static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        return s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
