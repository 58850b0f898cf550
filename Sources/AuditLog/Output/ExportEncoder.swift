/// The formats an export is written in.
package enum ExportFormat: String, CaseIterable, Hashable, Sendable {
    /// One JSON array of events, one event a line.
    case json
    /// One JSON object a line (newline-delimited JSON).
    case ndjson
    /// RFC 4180 CSV with a header row (see ``CSVExport``).
    case csv

    /// The HTTP media type of the format.
    package var mediaType: String {
        switch self {
        case .json: "application/json"
        case .ndjson: "application/x-ndjson"
        case .csv: "text/csv; charset=utf-8"
        }
    }
}

/// Writes the results of a query as an export, a chunk at a time: the bytes the CLI's
/// `export` writes and the HTTP API's `/v1/export` streams are this encoder's.
///
/// ```swift
/// var encoder = ExportEncoder(format: .csv)
/// var bytes: [UInt8] = []
/// while try encoder.encodeNext(from: iterator, into: &bytes) {
///     if bytes.count >= 1 << 16 { write(bytes); bytes.removeAll(keepingCapacity: true) }
/// }
/// write(bytes)  // holds the closing bytes
/// ```
package struct ExportEncoder: Sendable {
    /// The format written.
    package let format: ExportFormat
    /// Events written so far.
    package private(set) var count = 0
    /// Whether the encoder writes the format's opening and closing bytes (else it writes the
    /// events of a run of an export, each JSON one after a `,`: ``ExportChunks``).
    private let framed: Bool
    private var started = false
    private var finished = false
    private var csv = RecordCSV()

    /// An encoder for `format`.
    package init(format: ExportFormat) {
        self.init(format: format, framed: true)
    }

    init(format: ExportFormat, framed: Bool) {
        self.format = format
        self.framed = framed
    }

    /// The bytes an export in `format` starts with.
    static func opening(_ format: ExportFormat) -> [UInt8] {
        switch format {
        case .json: [UInt8(ascii: "[")]
        case .csv: CSVExport.header
        case .ndjson: []
        }
    }

    /// The bytes an export in `format` of `count` events ends with.
    static func closing(_ format: ExportFormat, count: Int) -> [UInt8] {
        format == .json ? Array((count == 0 ? "]\n" : "\n]\n").utf8) : []
    }

    /// Appends the next event of `iterator` (after the format's opening bytes, the first
    /// time) to `bytes` and returns true; at the end appends the closing bytes and returns false.
    package mutating func encodeNext(from iterator: QueryIterator, into bytes: inout [UInt8]) throws(AuditLogError) -> Bool {
        guard !finished else { return false }
        if !started {
            started = true
            if framed { bytes += Self.opening(format) }
        }
        let found: Bool
        switch format {
        case .json:
            let mark = bytes.count
            if count > 0 || !framed { bytes.append(UInt8(ascii: ",")) }
            bytes.append(0x0A)
            found = try iterator.nextJSON(into: &bytes)
            if !found { bytes.removeSubrange(mark...) }
        case .ndjson:
            found = try iterator.nextJSON(into: &bytes)
            if found { bytes.append(0x0A) }
        case .csv:
            found = try iterator.nextCSV(into: &bytes, transcoder: &csv)
        }
        if found {
            count += 1
            return true
        }
        finished = true
        if framed { bytes += Self.closing(format, count: count) }
        return false
    }
}

/// RFC 4180 CSV of events: the ``columns`` below, CRLF line ends, fields quoted when they
/// hold a comma, quote, CR or LF (quotes doubled). Absent fields are empty; nested fields are
/// JSON text.
package enum CSVExport {
    /// The typed fields' columns, between the header's and `seq`: who and what first, then
    /// the numbers, then the request and the nested fields.
    static let fieldOrder: [EventField] = [
        .verdict, .reasonCode, .model, .provider, .configVersion, .user, .team, .apiKey, .source,
        .tokensIn, .tokensOut, .tokensCached, .tokensReasoning, .cost, .latency, .cacheHit,
        .requestID, .sessionID, .gateway, .ip, .userAgent, .resource, .policies, .redactions, .details, .extra,
    ]

    /// The header, in column order: the identifying fields first, `seq` last.
    package static let columns = EventField.headerNames + fieldOrder.map(\.jsonName) + ["seq"]

    static let header = Array((columns.joined(separator: ",") + "\r\n").utf8)

    /// Appends one record as a CSV row: each column as ``AuditEvent/fieldText(_:)`` gives it;
    /// `extra` as one JSON object.
    package static func append(_ r: Record, to bytes: inout [UInt8]) {
        let e = r.event
        func text(_ value: String?) {
            if let value { appendField(value, to: &bytes) }
            bytes.append(UInt8(ascii: ","))
        }
        text(e.id)
        text(e.eventType)
        text(e.timestamp.rfc3339)
        for field in fieldOrder { text(e.text(of: field)) }
        bytes += Array(String(r.seq.rawValue).utf8)
        bytes += [0x0D, 0x0A]
    }

    /// Appends one field, quoted when it needs to be.
    package static func appendField(_ value: String, to bytes: inout [UInt8]) {
        value.withUTF8Bytes { RecordCSV.appendCell($0, to: &bytes) }
    }

    /// Comma, quote, LF, CR.
    static func needsQuotes(_ b: UInt8) -> Bool {
        switch b {
        case 0x2C, 0x22, 0x0A, 0x0D: true
        default: false
        }
    }
}
