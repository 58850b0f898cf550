import ArgumentParser
import AsyncHTTPClient
import AuditLog
import Foundation
import NIOCore
import NIOHTTP1

/// `--server URL`: send a command's request to the server that holds the log instead of
/// opening it (the token from `AUDITLOG_API_TOKEN`).
struct ServerOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Send the request to this running server (e.g. http://127.0.0.1:8080) instead of opening the log; the token comes from $AUDITLOG_API_TOKEN.",
            valueName: "url"))
    var server: String?

    func validate() throws {
        if let server, !(server.hasPrefix("http://") || server.hasPrefix("https://")) {
            throw ValidationError("--server '\(server)' is not an http:// or https:// URL")
        }
    }

    /// A client for --server, nil when it is not given.
    var client: ServerClient? {
        server.map { ServerClient(base: $0, token: ProcessInfo.processInfo.environment["AUDITLOG_API_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// Requests to a running `auditlog serve`; an error answer becomes the command's error, with
/// the server's message.
struct ServerClient {
    let base: String
    let token: String?

    /// The methods the commands send.
    enum Method {
        case get, post, delete
        var nio: HTTPMethod {
            switch self {
            case .get: .GET
            case .post: .POST
            case .delete: .DELETE
            }
        }
    }

    /// Sends `method path` with `body` (JSON) and returns the answer's JSON; a non-2xx answer
    /// throws its error message (exit 64 for a 4xx, 69 for a 5xx or no answer).
    func send(_ method: Method, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        var request = HTTPClientRequest(url: trimmed + path)
        request.method = method.nio
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw CLIError(message: "cannot reach the server at \(base): \(error)", status: ExitStatus.unavailable)
        }
        let value = try? JSONValue.parse(Array(bytes.readableBytesView))
        guard (200..<300).contains(response.status.code) else {
            let message = value?["error"]?["message"]?.stringValue ?? "HTTP \(response.status.code)"
            let status = response.status.code >= 500 ? ExitStatus.unavailable : response.status.code == 401 || response.status.code == 403 ? ExitStatus.noPermission : ExitStatus.usage
            throw CLIError(message: "the server answered \(response.status.code): \(message)", status: status)
        }
        guard let value else { throw CLIError(message: "the server's answer is not JSON", status: ExitStatus.unavailable) }
        return value
    }
}
