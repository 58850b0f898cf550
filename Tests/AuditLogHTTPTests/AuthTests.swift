import AuditLog
import AuditLogHTTP
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Bearer tokens and scopes")
struct AuthTests {
    @Test("401 without a token or with a wrong one, with a Bearer challenge")
    func unauthorized() async throws {
        try await withAPI(events: sampleEvents(3)) { _, client in
            for headers: HTTPFields in [[:], TestTokens.bearer("wrong"), [.authorization: "Basic dXNlcjpwYXNz"], [.authorization: "Bearer"]] {
                for uri in ["/v1/events", "/v1/events/evt_sample_1", "/v1/export", "/v1/usage", "/v1/verify", "/v1/head", "/v1/tail"] {
                    let r = try await client.execute(uri: uri, method: .get, headers: headers)
                    #expect(r.status == .unauthorized, "\(uri) \(headers)")
                    #expect(try r.errorCode() == "unauthorized")
                    #expect(r.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                }
                let post = try await client.execute(uri: "/v1/events", method: .post, headers: headers, body: AppendEventsTests.one.buffer)
                #expect(post.status == .unauthorized)
            }
        }
    }

    @Test("a read token reads but cannot append (403); a write token does both")
    func scopes() async throws {
        try await withAPI(events: sampleEvents(3)) { log, client in
            let denied = try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.reader, body: AppendEventsTests.one.buffer)
            #expect(denied.status == .forbidden)
            #expect(try denied.errorCode() == "forbidden")
            #expect(log.head.lastSeq == SequenceNumber(3))

            #expect(try await client.execute(uri: "/v1/events", method: .get, headers: TestTokens.reader).status == .ok)
            #expect(try await client.execute(uri: "/v1/events", method: .get, headers: TestTokens.writer).status == .ok)
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: TestTokens.writer, body: AppendEventsTests.one.buffer).status == .created)
            #expect(try await client.execute(uri: "/v1/events", method: .get, headers: [.authorization: "bearer \(TestTokens.read)"]).status == .ok)
        }
    }

    @Test("/healthz needs no token; unknown routes are JSON 404s")
    func openEndpoints() async throws {
        try await withAPI(events: sampleEvents(3)) { _, client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(try health.json()["status"]?.stringValue == "ok")
            #expect(try health.json()["last_seq"]?.intValue == 3)
        }
    }

    @Test("without tokens configured every request passes")
    func noAuth() async throws {
        try await withAPI(configuration: .init(tokens: nil), events: sampleEvents(3)) { _, client in
            let read = try await client.execute(uri: "/v1/events", method: .get)
            #expect(read.status == .ok)
            let write = try await client.execute(uri: "/v1/events", method: .post, headers: [.contentType: "application/json"], body: AppendEventsTests.one.buffer)
            #expect(write.status == .created)
            // Without authentication a body must say it is JSON: a page could post a typeless blob.
            let typeless = try await client.execute(uri: "/v1/events", method: .post, body: AppendEventsTests.one.buffer)
            #expect(typeless.status == .unsupportedMediaType)
        }
    }

    @Test("token files: digests with scopes, comments; errors name the line")
    func tokenFile() throws {
        let digest = SHA256.hash(data: Array("s3cret".utf8)).map { String(format: "%02x", $0) }.joined()
        let text = """
            # operators
            read \(digest.uppercased())   # dashboards
            write \(SHA256.hash(data: Array("w".utf8)).map { String(format: "%02x", $0) }.joined())

            """
        let tokens = try APITokens(parsing: text, file: "tokens")
        #expect(tokens.count == 2)
        #expect(tokens.scope(of: "s3cret") == .read)
        #expect(tokens.scope(of: "w") == .write)
        #expect(tokens.scope(of: "s3cre") == nil)
        #expect(tokens.scope(of: digest) == nil)

        for (bad, line) in [("read\n", 1), ("# c\nadmin \(digest)", 2), ("read s3cret", 1), ("write \(digest) extra", 1)] {
            do {
                _ = try APITokens(parsing: bad, file: "tokens")
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.location.line == line)
                #expect(error.location.file == "tokens")
            }
        }
    }
}
