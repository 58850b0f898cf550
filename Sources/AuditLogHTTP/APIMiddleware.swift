import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the API's JSON error body and counts each request (method, route,
/// status, time to the response head) in ``APIMetrics`` when given one.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: APIMetrics?
    /// Whether the console's paths are served too (a wrong method on them is 405).
    var servesConsole = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let apiError: APIError
            if let allowed = AuditLogAPI.methods(forPath: path) ?? (servesConsole ? AuditLogConsole.methods(forPath: path) : nil) {
                apiError = APIError(
                    .methodNotAllowed, code: "method_not_allowed", "\(path) answers \(allowed.joined(separator: ", ")), not \(request.method)", headers: [.allow: allowed.joined(separator: ", ")])
            } else {
                apiError = APIError.notFound("no route for \(request.method) \(path)")
            }
            response = try apiError.response(from: request, context: context)
        } catch {
            let apiError = APIError(any: error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            response = try apiError.response(from: request, context: context)
        }
        metrics?.recordRequest(method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code, seconds: (ContinuousClock.now - start).seconds)
        return response
    }
}

/// Lets a request through only with a bearer token of at least `scope`: 401 when the token is
/// missing or unknown, 403 when its scope is too narrow. With no token set (`tokens` nil, the
/// server's `--insecure-no-auth`), lets everything through.
///
/// With `audit`, refused requests are recorded (`audit.auth_failed`, coalesced per client).
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: APITokens?
    let scope: APIScope
    var audit: ReadAudit? = nil
    /// Whether team-scoped tokens are served (a fleet's routes cannot limit them: 403).
    var servesScopedTokens = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let token = try Self.authorize(request, tokens: tokens, scope: scope)
            if !servesScopedTokens, let teams = token?.teams {
                throw APIError(.forbidden, code: "forbidden", "this token sees only team(s) \(teams.sorted().joined(separator: ", ")); a fleet server serves only tokens without a team scope")
            }
        } catch let error as APIError {
            audit?.authFailed(client: AuditLogAPI.clientAddress(context), route: request.uri.path, status: Int(error.status.code), request: request)
            throw error
        }
        return try await next(request, context)
    }

    /// Throws 401 or 403 unless `request` carries a token of `scope` (or there are no tokens);
    /// returns the token's entry (nil without tokens).
    @discardableResult
    static func authorize(_ request: Request, tokens: APITokens?, scope: APIScope) throws -> APIToken? {
        guard let tokens else { return nil }
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"auditlog\""]
        guard let presented = bearerToken(request) else {
            let message = request.headers[.authorization] == nil ? "this endpoint needs 'Authorization: Bearer <token>'" : "the Authorization header is not 'Bearer <token>'"
            throw APIError(.unauthorized, code: "unauthorized", message, headers: challenge)
        }
        guard let granted = tokens.token(presented) else {
            throw APIError(.unauthorized, code: "unauthorized", "the bearer token is not valid", headers: challenge)
        }
        guard granted.scope >= scope else {
            throw APIError(.forbidden, code: "forbidden", "this token has scope '\(granted.scope.rawValue)'; this endpoint needs '\(scope.rawValue)'")
        }
        return granted
    }

    /// The token of an `Authorization: Bearer <token>` header.
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1].trimmingCharacters(in: .whitespaces))
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
