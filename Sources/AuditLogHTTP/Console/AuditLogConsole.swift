import AuditLog
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The events console: a single page (HTML, CSS and JavaScript modules embedded in the binary,
/// Console/Assets) served at `GET /` with its assets under `/console/`, that reads the log
/// through the API's `/v1/` routes with the user's token. docs/CONSOLE.md describes it.
///
/// Every answer carries a `Content-Security-Policy` that allows scripts, styles and requests
/// from the server's own origin only (no inline script, no other origin, no framing).
public struct AuditLogConsole: Sendable {
    /// The API the page talks to (for what `/console/config.json` says about it).
    let api: AuditLogAPI

    /// A console for `api`, to register on the same router.
    public init(api: AuditLogAPI) {
        self.api = api
    }

    /// The policy of every console answer.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Adds `GET /`, `GET /console/config.json` and `GET /console/{asset}` to `router`.
    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        let errors = APIErrorMiddleware<Context>(metrics: api.metrics, servesConsole: true)
        let group = router.group().add(middleware: errors)
        group.get("/") { request, _ in try Self.serve("index.html", request: request) }
        group.head("/") { request, _ in try Self.serve("index.html", request: request).withoutBody() }
        group.get("console/config.json") { _, _ in self.config() }
        group.get("console/:asset") { request, context in try Self.serve(context.parameters.get("asset") ?? "", request: request) }
        group.head("console/:asset") { request, context in try Self.serve(context.parameters.get("asset") ?? "", request: request).withoutBody() }
    }

    /// The methods the console answers on `path`, nil for a path it does not serve.
    static func methods(forPath path: String) -> [String]? {
        path == "/" || (path.hasPrefix("/console/") && ConsoleAssets.named[String(path.dropFirst("/console/".count))] != nil) ? ["GET", "HEAD"] : nil
    }

    /// What the page needs to know before it asks for a token.
    private func config() -> Response {
        let log = api.log
        var response = AuditLogAPI.json(
            .object([
                JSONMember("auth_required", .bool(api.configuration.tokens != nil)),
                JSONMember("read_only", .bool(log.options.access != .readWrite)),
                JSONMember("records_reads", .bool(api.recordsReads)),
                JSONMember("log_id", .string(log.logID.description)),
            ]))
        Self.secure(&response.headers)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// One asset with its type, an ETag (304 when the browser has it), and the headers that
    /// confine the page.
    static func serve(_ name: String, request: Request) throws -> Response {
        guard let asset = ConsoleAssets.named[name] else { throw APIError.notFound("no console asset '\(name.prefix(100))'") }
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.eTag] = asset.etag
        headers[.cacheControl] = "no-cache"
        secure(&headers)
        if let presented = request.headers[.ifNoneMatch], presented.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    private static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.xFrameOptions] = "DENY"
    }
}

/// The console's files, embedded at build time (`.embedInCode` in Package.swift).
enum ConsoleAssets {
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String

        init(_ bytes: [UInt8], _ contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            etag = "\"" + SHA256.hash(data: bytes).prefix(12).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() + "\""
        }
    }

    static let named: [String: Asset] = [
        "index.html": Asset(PackageResources.index_html, "text/html; charset=utf-8"),
        "console.css": Asset(PackageResources.console_css, "text/css; charset=utf-8"),
        "app.js": Asset(PackageResources.app_js, javaScript),
        "api.js": Asset(PackageResources.api_js, javaScript),
        "format.js": Asset(PackageResources.format_js, javaScript),
        "events.js": Asset(PackageResources.events_js, javaScript),
        "detail.js": Asset(PackageResources.detail_js, javaScript),
        "usage.js": Asset(PackageResources.usage_js, javaScript),
        "integrity.js": Asset(PackageResources.integrity_js, javaScript),
        "favicon.svg": Asset(PackageResources.favicon_svg, "image/svg+xml"),
    ]

    private static let javaScript = "text/javascript; charset=utf-8"

    /// Bytes of every asset together (the page weight budget is 150 KB).
    static var totalBytes: Int { named.values.reduce(0) { $0 + $1.bytes.count } }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy") ?? .cacheControl
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options") ?? .cacheControl
    static let referrerPolicy = HTTPField.Name("Referrer-Policy") ?? .cacheControl
    static let xFrameOptions = HTTPField.Name("X-Frame-Options") ?? .cacheControl
}
