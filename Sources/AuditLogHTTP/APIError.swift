import AuditLog
import HTTPTypes
import Hummingbird
import NIOCore

/// An error the API answers with: a status and the body
/// `{"error":{"code":"…","message":"…"}}`, plus where it applies (`index`, `field`, `line`,
/// `parameter`, `seq`) when known.
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable machine-readable code, e.g. `invalid_event` or `unauthorized`.
    public var code: String
    /// What went wrong, in a sentence.
    public var message: String
    /// More members of the error object (location of the problem).
    public var details: [JSONMember]
    /// Extra response headers (e.g. `WWW-Authenticate`).
    public var headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, _ message: String, details: [JSONMember] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// A query parameter with a bad value.
    static func invalidParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", message, details: [JSONMember("parameter", .string(name))])
    }

    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message)
    }

    /// The error object: `{"error":{"code","message",…}}`.
    var json: JSONValue {
        .object([JSONMember("error", .object([JSONMember("code", .string(code)), JSONMember("message", .string(message))] + details))])
    }

    /// The error object as JSON bytes.
    var body: [UInt8] { Array((json.jsonText + "\n").utf8) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension APIError {
    /// The API's answer to a library error: client mistakes are 4xx and name where they are;
    /// damaged or unreadable storage is 500; a closed log is 503.
    init(_ error: AuditLogError) {
        let status: HTTPResponse.Status
        let code: String
        switch error.code {
        case .invalidEvent: (status, code) = (.badRequest, "invalid_event")
        case .duplicateID: (status, code) = (.conflict, "duplicate_id")
        case .invalidArgument: (status, code) = (.badRequest, "invalid_argument")
        case .limitExceeded: (status, code) = (.contentTooLarge, "too_large")
        case .corruption: (status, code) = (.internalServerError, "corruption")
        case .closed, .locked: (status, code) = (.serviceUnavailable, "unavailable")
        case .archive: (status, code) = (.badGateway, "archive_unavailable")
        default: (status, code) = (.internalServerError, "storage_error")
        }
        var details: [JSONMember] = []
        let l = error.location
        if let index = l.index { details.append(JSONMember("index", .integer(index))) }
        if let field = l.field { details.append(JSONMember("field", .string(field))) }
        if let line = l.line { details.append(JSONMember("line", .integer(line))) }
        if let offset = l.offset, status.code < 500 { details.append(JSONMember("offset", .integer(offset))) }
        if let seq = l.seq { details.append(JSONMember("seq", .integer(seq.rawValue))) }
        // Clients see where in their input; storage paths stay in the server log.
        let message = status.code < 500 ? error.summary : error.message
        self.init(status, code: code, message, details: details)
    }

    /// Any error thrown while answering, as the API reports it.
    init(any error: any Error) {
        switch error {
        case let e as APIError: self = e
        case let e as AuditLogError: self.init(e)
        case let e as HTTPError:
            let code: String
            switch e.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "too_large"
            case .unauthorized: code = "unauthorized"
            case .badRequest: code = "bad_request"
            default: code = e.status.code >= 500 ? "internal" : "error"
            }
            self.init(e.status, code: code, e.body ?? e.status.reasonPhrase, headers: e.headers)
        case is NIOTooManyBytesError:
            self.init(.contentTooLarge, code: "too_large", "the request body exceeds the server's limit")
        default:
            self.init(.internalServerError, code: "internal", "internal error")
        }
    }
}
