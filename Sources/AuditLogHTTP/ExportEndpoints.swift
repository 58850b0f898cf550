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
    func export(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: QueryParameters.filterNames.union(["format"]))
        let formatText = try q.one("format") ?? "ndjson"
        guard let format = ExportFormat(rawValue: formatText) else {
            throw APIError.invalidParameter("format", "'format=\(formatText)' is not json, ndjson or csv")
        }
        let iterator = try log.query(Query(window: try q.window(), filter: try q.filter(), order: .oldestFirst)).makeIterator()
        let box = IteratorBox(iterator)
        let metrics = self.metrics
        let body = ResponseBody { writer in
            var encoder = ExportEncoder(format: format)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(1 << 17)
            while try encoder.encodeNext(from: box.iterator, into: &bytes) {
                if bytes.count >= 1 << 16 {
                    // Suspends while the connection is not writable: the client's pace bounds
                    // what is held here to about one chunk.
                    try await writer.write(ByteBuffer(bytes: bytes))
                    metrics.recordExportChunk(bytes: bytes.count)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            try await writer.write(ByteBuffer(bytes: bytes))
            metrics.recordExportChunk(bytes: bytes.count)
            try await writer.finish(nil)
            metrics.recordExport(events: encoder.count)
        }
        var headers = HTTPFields()
        headers[.contentType] = format.mediaType
        headers[.contentDisposition] = "attachment; filename=\"auditlog-export.\(format.rawValue)\""
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The library's usage report as JSON: `{"group_by":[…],"rows":[…],"totals":{…}}`.
    func usage(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: QueryParameters.filterNames.union(["group_by", "sort", "limit"]))
        var keys: [UsageGroup] = []
        for text in q.all("group_by").flatMap({ $0.split(separator: ",") }) {
            guard let key = UsageGroup(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalidParameter("group_by", "'group_by=\(text)' is not one of \(UsageGroup.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !keys.contains(key) else { throw APIError.invalidParameter("group_by", "group_by names '\(key.rawValue)' twice") }
            keys.append(key)
        }
        let sortText = try q.one("sort") ?? "cost"
        guard let order = UsageOrder(rawValue: sortText) else {
            throw APIError.invalidParameter("sort", "'sort=\(sortText)' is not cost, requests or tokens")
        }
        var limit: Int?
        if try q.one("limit") != nil { limit = try q.limit(default: 0, maximum: Int.max) }
        let report = try await log.usage(window: try q.window(), groupBy: keys, filter: try q.filter())
        return Self.json(report.json(rows: report.rows(orderedBy: order, limit: limit)))
    }
}

/// Carries a query iterator into the response-body task, which alone uses it.
final class IteratorBox: @unchecked Sendable {
    let iterator: QueryIterator
    init(_ iterator: QueryIterator) { self.iterator = iterator }
}
