import Crypto
import Foundation
import Testing

@testable import AuditLog

/// The signer against requests botocore signed with a fixed clock (fixtures/sigv4/vectors.json,
/// made by scripts/sigv4-vectors.py): payload hashes, query strings, session tokens, unsigned
/// payloads, keys and secrets with characters that need escaping.
@Suite struct SigV4Tests {
    struct Vector {
        var name, method, host, key, accessKey, secretKey, region, time, expectedPath: String
        var sessionToken: String?
        var query, headers: [(String, String)]
        var body: [UInt8]
        var unsigned: Bool
        var expected: [String: String]
    }

    static func vectors() throws -> [Vector] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/sigv4/vectors.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let list = try #require(root["vectors"] as? [[String: Any]])
        func pairs(_ any: Any?) -> [(String, String)] { ((any as? [[String]]) ?? []).map { ($0[0], $0[1]) } }
        return list.map { v in
            Vector(
                name: v["name"] as? String ?? "", method: v["method"] as? String ?? "", host: v["host"] as? String ?? "", key: v["key"] as? String ?? "",
                accessKey: v["access_key"] as? String ?? "", secretKey: v["secret_key"] as? String ?? "", region: v["region"] as? String ?? "",
                time: v["time"] as? String ?? "", expectedPath: v["expected_path"] as? String ?? "", sessionToken: v["session_token"] as? String,
                query: pairs(v["query"]), headers: pairs(v["headers"]), body: Hex.decode(v["body_hex"] as? String ?? "") ?? [],
                unsigned: v["unsigned_payload"] as? Bool ?? false, expected: v["expected"] as? [String: String] ?? [:])
        }
    }

    @Test func matchesBotocore() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count >= 7)
        for v in vectors {
            #expect(SigV4.encodePath(v.key) == v.expectedPath, "\(v.name)")
            let t = v.time
            let iso = "\(t.prefix(4))-\(t.dropFirst(4).prefix(2))-\(t.dropFirst(6).prefix(2))T\(t.dropFirst(9).prefix(2)):\(t.dropFirst(11).prefix(2)):\(t.dropFirst(13).prefix(2))Z"
            let time = try #require(Timestamp(rfc3339: iso))
            let signer = SigV4(credentials: .init(accessKey: v.accessKey, secretKey: v.secretKey, sessionToken: v.sessionToken), region: v.region)
            let hash = v.unsigned ? SigV4.unsignedPayload : Hex.encode(sha256(v.body))
            let added = signer.sign(method: v.method, path: v.expectedPath, query: v.query, headers: v.headers + [("Host", v.host)], payloadHash: hash, time: time)
            let got = Dictionary(added, uniquingKeysWith: { a, _ in a })
            #expect(got == v.expected, "\(v.name)")
        }
    }

    @Test func aWrongSecretChangesTheSignature() throws {
        let v = try #require(try Self.vectors().first)
        let signer = SigV4(credentials: .init(accessKey: v.accessKey, secretKey: v.secretKey + "x"), region: v.region)
        let added = signer.sign(method: v.method, path: v.expectedPath, query: v.query, headers: v.headers + [("host", v.host)], payloadHash: Hex.encode(sha256(v.body)), time: .now)
        #expect(Dictionary(added, uniquingKeysWith: { a, _ in a })["authorization"] != v.expected["authorization"])
    }

    @Test func credentialsNeverPrintTheirSecret() throws {
        var options = ArchiveOptions(location: try ArchiveLocation(url: "s3://audit/p"))
        options.credentials = ArchiveCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t-value", sessionToken: "tok-value")
        for text in ["\(options)", String(reflecting: options), "\(options.credentials!)"] {
            #expect(!text.contains("s3cr3t-value") && !text.contains("tok-value"), "\(text)")
        }
    }

    private func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }
}
