import Crypto

/// AWS Signature Version 4 for S3 requests (the `Authorization` header form), on swift-crypto's
/// HMAC-SHA256 and SHA-256. Checked against vectors botocore signed (fixtures/sigv4,
/// `scripts/sigv4-vectors.py`): headers, query strings, session tokens, unsigned payloads and
/// keys that need escaping.
struct SigV4 {
    /// Access key, secret and, for temporary credentials, the session token.
    struct Credentials: Sendable, Hashable {
        var accessKey: String
        var secretKey: String
        var sessionToken: String?
    }

    /// The hex SHA-256 of an empty body.
    static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// Said instead of the body's hash when the body is not signed (its checksum header covers it).
    static let unsignedPayload = "UNSIGNED-PAYLOAD"

    var credentials: Credentials
    var region: String
    var service = "s3"

    /// The headers to add to a request: `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (with a session token) and `authorization`. `path` is already
    /// percent-encoded (``encodePath(_:)``); `query` items are raw; `headers` are every header
    /// the request sends that is signed (`host` among them).
    func sign(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String, time: Timestamp
    ) -> [(String, String)] {
        let amzDate = Self.amzDate(time)
        let day = String(amzDate.prefix(8))
        var added: [(String, String)] = [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }

        var canonicalHeaders: [String: [String]] = [:]
        for (name, value) in headers + added {
            canonicalHeaders[name.lowercased(), default: []].append(Self.trimAll(value))
        }
        let names = canonicalHeaders.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        var canonical = method + "\n" + path + "\n" + Self.canonicalQuery(query) + "\n"
        for name in names { canonical += name + ":" + (canonicalHeaders[name] ?? []).joined(separator: ",") + "\n" }
        canonical += "\n" + signedHeaders + "\n" + payloadHash

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Hex.encode(SHA256.hash(data: Array(canonical.utf8)))
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        added.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    /// The canonical request's line for `method path query…` is built from this: `/` + the key
    /// with every byte but unreserved characters and `/` percent-encoded (as S3 expects: no
    /// normalisation of `.` or `//`).
    static func encodePath(_ key: String) -> String {
        "/" + percentEncode(key, keepingSlash: true)
    }

    /// RFC 3986 percent-encoding of everything but `A–Z a–z 0–9 - _ . ~` (and `/` when asked).
    static func percentEncode(_ s: String, keepingSlash: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlash:
                out.append("/")
            default:
                out += "%" + hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 0xF)]
            }
        }
        return out
    }

    /// `name=value` pairs, both encoded, sorted by name then value, joined by `&`.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (percentEncode($0.0), percentEncode($0.1)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// `2026-12-01T18:30:05Z` (object lock's retain-until date).
    static func isoSeconds(_ time: Timestamp) -> String { String(time.rfc3339.prefix(19)) + "Z" }

    /// `20261201T183005Z`.
    static func amzDate(_ time: Timestamp) -> String {
        String(time.rfc3339.prefix(19).filter { $0 != "-" && $0 != ":" }) + "Z"
    }

    /// Leading and trailing spaces dropped, runs of spaces made one.
    private static func trimAll(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    private static let hexDigits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
}
