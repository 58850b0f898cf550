import AuditLog
import AuditLogHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Tokens the test APIs accept.
enum TestTokens {
    static let read = "read-token-0123456789"
    static let write = "write-token-9876543210"

    static var all: APITokens {
        var tokens = APITokens()
        tokens.add(token: read, scope: .read)
        tokens.add(token: write, scope: .write)
        return tokens
    }

    /// The API's configuration with these tokens and without recording reads, so that what a
    /// test reads is exactly what it appended (ReadAuditTests turns recording on).
    static func configuration(maxBodyBytes: Int = 16 << 20, maxPageBytes: Int = 8 << 20) -> AuditLogAPI.Configuration {
        var configuration = AuditLogAPI.Configuration(tokens: all, maxBodyBytes: maxBodyBytes, maxPageBytes: maxPageBytes)
        configuration.recordReads = false
        return configuration
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
    static var reader: HTTPFields { bearer(read) }
    static var writer: HTTPFields { bearer(write) }
}

/// A fresh directory under the system temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-http-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url.path)
}

/// A real log in a temporary directory with the API mounted on a router, run by
/// HummingbirdTesting (`.router` in process, `.live` on a loopback port).
func withAPI(
    _ setup: TestingSetup = .router,
    options: AuditLogOptions = AuditLogOptions(),
    configuration: AuditLogAPI.Configuration = TestTokens.configuration(),
    events: [AuditEvent] = [],
    _ body: @escaping @Sendable (AuditLog, any TestClientProtocol) async throws -> Void
) async throws {
    try await withTemporaryDirectory { dir in
        let log = try await AuditLog.open(directory: dir, options: options)
        var i = 0
        while i < events.count {
            _ = try await log.append(Array(events[i..<min(i + 10_000, events.count)]))
            i += 10_000
        }
        let router = Router()
        AuditLogAPI(log: log, configuration: configuration).register(on: router)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        do {
            try await app.test(setup) { client in try await body(log, client) }
        } catch {
            try? await log.close()
            throw error
        }
        try await log.close()
    }
}

/// `count` events, one a minute ending at `end`, cycling through users, models and verdicts.
func sampleEvents(_ count: Int, end: Timestamp = Timestamp(rfc3339: "2026-03-20T12:00:00Z")!) -> [AuditEvent] {
    let users = ["alice@acme.com", "bob@acme.com", "carol@acme.com"]
    let models = ["gpt-4o", "claude-sonnet", "llama-3"]
    let verdicts: [Verdict] = [.allow, .allow, .block, .redact, .allow, .escalate, .allow]
    return (0..<count).map { i in
        let t = Timestamp(nanosSinceEpoch: end.nanosSinceEpoch - Int64(count - i) * 60_000_000_000)
        var e = AuditEvent(eventType: "decision", timestamp: t, id: "evt_sample_\(i)")
        e.user = users[i % users.count]
        e.team = i % 2 == 0 ? "payments" : "search"
        e.model = models[i % models.count]
        e.provider = "openai"
        e.verdict = verdicts[i % verdicts.count]
        e.tokensIn = Int64(100 + i)
        e.tokensOut = 50
        e.cost = Cost(nanodollars: 1_000_000 + Int64(i))
        e.latencyMicros = Int64(1000 * (i % 50 + 1))
        e.cacheHit = i % 5 == 0
        return e
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body parsed as JSON.
    func json() throws -> JSONValue { try JSONValue.parse(text) }

    /// The `error.code` of an error body.
    func errorCode() throws -> String? { try json()["error"]?["code"]?.stringValue }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var intValue: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }
}

extension String {
    var buffer: ByteBuffer { ByteBuffer(string: self) }
}
