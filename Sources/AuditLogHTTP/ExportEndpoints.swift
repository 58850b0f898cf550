import AuditLog
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/export` and `GET /v1/usage`.
extension AuditLogAPI {
    /// Every matching event, oldest first, streamed in 64 KiB chunks in constant memory: the
    /// same bytes as `auditlog export` with the same filters and format.
    ///
    /// A failure after the first chunk has been sent can no longer change the status; the
    /// connection is then closed early, leaving the document visibly incomplete.
    func export(_ request: Request, caller: Caller) async throws -> Response {
        let q = try QueryParameters(request, allowed: QueryParameters.filterNames.union(["format"]))
        let formatText = try q.one("format") ?? "ndjson"
        guard let format = ExportFormat(rawValue: formatText) else {
            throw APIError.invalidParameter("format", "'format=\(formatText)' is not json, ndjson or csv")
        }
        let (window, filter) = caller.scope(try q.window(), try q.filter())
        let iterator = try log.queryIterator(Query(window: window, filter: filter, order: .oldestFirst))
        let stream = ExportStream(iterator: iterator, format: format)
        let metrics = self.metrics
        let readAudit = self.readAudit
        let body = ResponseBody { writer in
            // Each chunk is read and encoded off the cooperative pool, then written; the write
            // suspends while the connection is not writable, so the client's pace bounds what
            // is held here to about one chunk.
            while let chunk = try await offloaded({ () throws(AuditLogError) in try stream.nextChunk() }) {
                try await writer.write(ByteBuffer(bytes: chunk))
                metrics.recordExportChunk(bytes: chunk.count)
            }
            try await writer.finish(nil)
            metrics.recordExport(events: stream.count)
            readAudit.record(caller, route: "/v1/export", request: request, events: stream.count, coalesce: false, details: [JSONMember("format", .string(format.rawValue))])
        }
        var headers = HTTPFields()
        headers[.contentType] = format.mediaType
        headers[.contentDisposition] = "attachment; filename=\"auditlog-export.\(format.rawValue)\""
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The library's usage report as JSON (`{"group_by":[…],"rows":[…],"totals":{…}}`) or, with
    /// `format=csv`, as the CSV `auditlog usage --format csv` prints.
    func usage(_ request: Request, caller: Caller) async throws -> Response {
        let u = try UsageParameters(request)
        let (window, filter) = caller.scope(u.window, u.filter)
        let report = try await log.usage(window: window, groupBy: u.groupBy, filter: filter, columns: u.columns)
        readAudit.record(caller, route: "/v1/usage", request: request, events: Int(report.totals.requests))
        return u.response(report)
    }
}

/// What `GET /v1/usage` takes (group_by, sort, limit, format, columns and the filters) and how
/// it answers: the same for one log and a fleet.
struct UsageParameters {
    static let names = QueryParameters.filterNames.union(["group_by", "sort", "limit", "format", "columns"])

    var window: TimeWindow
    var filter: EventFilter
    var groupBy: [UsageGroup] = []
    var order: UsageOrder
    var limit: Int?
    var columns: UsageColumns = []
    var csv: Bool
    /// The parameters, for an endpoint's own (a fleet's `node`).
    let query: QueryParameters

    init(_ request: Request, extra: Set<String> = []) throws {
        let q = try QueryParameters(request, allowed: Self.names.union(extra))
        query = q
        let format = try q.one("format") ?? "json"
        guard format == "json" || format == "csv" else { throw APIError.invalidParameter("format", "'format=\(format)' is not json or csv") }
        csv = format == "csv"
        for text in q.all("group_by").flatMap({ $0.split(separator: ",") }) {
            guard let key = UsageGroup(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalidParameter("group_by", "'group_by=\(text)' is not one of \(UsageGroup.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !groupBy.contains(key) else { throw APIError.invalidParameter("group_by", "group_by names '\(key.rawValue)' twice") }
            groupBy.append(key)
        }
        let sortText = try q.one("sort") ?? "cost"
        guard let order = UsageOrder(rawValue: sortText) else {
            throw APIError.invalidParameter("sort", "'sort=\(sortText)' is not cost, requests or tokens")
        }
        self.order = order
        if try q.one("limit") != nil { limit = try q.limit(default: 0, maximum: Int.max) }
        for text in q.all("columns").flatMap({ $0.split(separator: ",") }) {
            switch text.trimmingCharacters(in: .whitespaces) {
            case "unique_users": columns.insert(.uniqueUsers)
            case "reasons": columns.insert(.reasons)
            default: throw APIError.invalidParameter("columns", "'columns=\(text)' is not unique_users or reasons")
            }
        }
        window = try q.window()
        filter = try q.filter()
    }

    /// The report as JSON or CSV.
    func response(_ report: UsageReport) -> Response {
        let rows = report.rows(orderedBy: order, limit: limit)
        guard csv else { return AuditLogAPI.json(report.json(rows: rows)) }
        var headers = HTTPFields()
        headers[.contentType] = ExportFormat.csv.mediaType
        headers[.contentDisposition] = "attachment; filename=\"auditlog-usage.csv\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: report.csv(rows: rows))))
    }
}

/// An export read a chunk at a time. Used by one task at a time (the response body's), each
/// chunk on a Dispatch thread; hence `@unchecked Sendable`.
final class ExportStream: @unchecked Sendable {
    static let chunkBytes = 64 << 10

    private let iterator: QueryIterator
    private var encoder: ExportEncoder
    private var finished = false

    init(iterator: QueryIterator, format: ExportFormat) {
        self.iterator = iterator
        encoder = ExportEncoder(format: format)
    }

    /// Events written so far.
    var count: Int { encoder.count }

    /// About a chunk of the export, the closing bytes with the last one; nil after that.
    func nextChunk() throws(AuditLogError) -> [UInt8]? {
        guard !finished else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.chunkBytes + 4096)
        while bytes.count < Self.chunkBytes {
            guard try encoder.encodeNext(from: iterator, into: &bytes) else {
                finished = true
                break
            }
        }
        return bytes
    }
}
