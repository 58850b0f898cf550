import AuditLog
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/verify` (with `progress=true`, a stream of its progress) and `GET /v1/verify/latest`.
extension AuditLogAPI {
    /// Runs full verification (or joins the one running with the same options) and answers its
    /// report. With `progress=true` the answer is Server-Sent Events: `event: progress` about
    /// every 200 ms while it runs, then one `event: report` (or `event: error`).
    func verify(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: ["from_seq", "deep", "expect_head", "strict", "progress"])
        var options = VerificationOptions()
        if let text = try q.one("from_seq") {
            guard let seq = UInt64(text), seq >= 1 else { throw APIError.invalidParameter("from_seq", "'from_seq=\(text)' is not a seq (a positive integer)") }
            options.fromSeq = SequenceNumber(seq)
        }
        options.deep = try q.flag("deep")
        if let text = try q.one("expect_head") {
            guard let pinned = PinnedHead(text) else {
                throw APIError.invalidParameter("expect_head", "'expect_head=\(text.prefix(100))' is not SEQ:HEX (a seq, a colon and 64 hex digits)")
            }
            options.expectedHead = pinned
        }
        let strict = try q.flag("strict")
        let run = verifications.start(directory: log.directory, options: options)
        guard try q.flag("progress") else {
            let outcome = try await run.value.get()
            return Self.json(outcome.report.json(seconds: outcome.seconds, strict: strict))
        }
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: ": verifying\n\n"))
            var reported: VerificationProgress?
            while run.outcome == nil {
                let step = run.progress.withLock { $0 }
                if let step, step != reported {
                    reported = step
                    try await writer.write(ByteBuffer(string: "event: progress\ndata: \(Self.progressJSON(step).jsonText)\n\n"))
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            switch await run.value {
            case .success(let outcome):
                try await writer.write(ByteBuffer(string: "event: report\ndata: \(outcome.report.json(seconds: outcome.seconds, strict: strict).jsonText)\n\n"))
            case .failure(let error):
                try await writer.write(ByteBuffer(string: "event: error\ndata: \(APIError(error).json.jsonText)\n\n"))
            }
            try await writer.finish(nil)
        }
        return Self.eventStream(body)
    }

    /// The latest verification to finish since the server started (any client's, with any
    /// options): `{"finished_at", "options", "report"}` (or `"error"` for one that could not
    /// run); all three null before the first.
    func latestVerification(_ request: Request) async throws -> Response {
        let q = try QueryParameters(request, allowed: ["strict"])
        let strict = try q.flag("strict")
        guard let latest = verifications.latest else {
            return Self.json(.object([JSONMember("finished_at", .null), JSONMember("options", .null), JSONMember("report", .null)]))
        }
        var options: [JSONMember] = [JSONMember("deep", .bool(latest.options.deep))]
        options.append(JSONMember("from_seq", Self.seqJSON(latest.options.fromSeq)))
        options.append(JSONMember("expect_head", latest.options.expectedHead.map { .string("\($0.seq.rawValue):\($0.chainValue.hex)") } ?? .null))
        var members = [JSONMember("finished_at", .string(latest.time.rfc3339)), JSONMember("options", .object(options))]
        switch latest.outcome {
        case .success(let outcome): members.append(JSONMember("report", outcome.report.json(seconds: outcome.seconds, strict: strict)))
        case .failure(let error): members.append(JSONMember("error", APIError(error).json["error"] ?? .null))
        }
        return Self.json(.object(members))
    }

    private static func progressJSON(_ step: VerificationProgress) -> JSONValue {
        .object([
            JSONMember("bytes_done", .integer(step.bytesDone)),
            JSONMember("bytes_total", .integer(step.bytesTotal)),
            JSONMember("records_done", .integer(step.recordsDone)),
            JSONMember("segments_done", .integer(step.segmentsDone)),
            JSONMember("segments_total", .integer(step.segmentsTotal)),
        ])
    }
}
