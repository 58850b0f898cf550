/// The one error type the library's public API throws.
///
/// It says what went wrong (``code``, ``message``), where (``location``: file, byte offset,
/// seq, input line, field) and why underneath (``cause``). Its description is a small tree:
///
/// ```
/// AuditLogError: corruption
/// ├─ Reason: frame checksum mismatch
/// ├─ Where: file 'segments/00000000000000000001.seg', byte offset 4096, seq 1200
/// ```
public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    /// The class of failure. New codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Value: String, Sendable {
            case invalidEvent = "invalid event"
            case duplicateID = "duplicate id"
            case corruption
            case io = "I/O error"
            case locked
            case noLog = "no log"
            case invalidArgument = "invalid argument"
            case closed
            case unsupportedVersion = "unsupported version"
            case limitExceeded = "limit exceeded"
            case archive = "archive unavailable"
        }

        let value: Value

        /// An event failed validation (a field is missing, of the wrong type or out of range).
        public static let invalidEvent = Code(value: .invalidEvent)
        /// A client-supplied event id is already in the log (or twice in one batch).
        public static let duplicateID = Code(value: .duplicateID)
        /// Stored bytes are damaged or were altered: checksum, chain or structure mismatch.
        public static let corruption = Code(value: .corruption)
        /// The operating system refused a file operation.
        public static let io = Code(value: .io)
        /// Another process holds the log for writing.
        public static let locked = Code(value: .locked)
        /// The directory holds no log.
        public static let noLog = Code(value: .noLog)
        /// An argument is out of range.
        public static let invalidArgument = Code(value: .invalidArgument)
        /// The log was closed, or its writer stopped after a fatal error.
        public static let closed = Code(value: .closed)
        /// The files were written by a newer format version.
        public static let unsupportedVersion = Code(value: .unsupportedVersion)
        /// A size limit was exceeded (event size, batch size, nesting depth).
        public static let limitExceeded = Code(value: .limitExceeded)
        /// The object store holding the log's archived segments refused a request or could not
        /// be reached (the error names the object).
        public static let archive = Code(value: .archive)

        public var description: String { value.rawValue }

        /// Whether an error of this code refuses one batch only (its events, an argument): the
        /// log is fine and takes other batches; every other code is about the log itself.
        public var isBatchRejection: Bool {
            switch value {
            case .invalidEvent, .duplicateID, .limitExceeded, .invalidArgument: true
            default: false
            }
        }
    }

    /// Where the failure is: any of file, byte offset, seq, input line or index, field.
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        /// A path, relative to the log directory when inside it.
        public var file: String?
        /// A byte offset in ``file`` (or in the input line, for an invalid event).
        public var offset: Int64?
        /// The sequence number involved.
        public var seq: SequenceNumber?
        /// 1-based line of the input (NDJSON ingest).
        public var line: Int?
        /// 0-based position of the event in its batch or array.
        public var index: Int?
        /// The event field, e.g. `verdict` or `policies[1].name`.
        public var field: String?

        package init(
            file: String? = nil, offset: Int64? = nil, seq: SequenceNumber? = nil,
            line: Int? = nil, index: Int? = nil, field: String? = nil
        ) {
            self.file = file
            self.offset = offset
            self.seq = seq
            self.line = line
            self.index = index
            self.field = field
        }

        var isEmpty: Bool { file == nil && offset == nil && seq == nil && line == nil && index == nil && field == nil }

        public var description: String {
            var parts: [String] = []
            if let line { parts.append("line \(line)") }
            if let index { parts.append("event #\(index)") }
            if let field { parts.append("field '\(field)'") }
            if let file { parts.append("file '\(file)'") }
            if let offset { parts.append("byte offset \(offset)") }
            if let seq { parts.append("seq \(seq)") }
            return parts.joined(separator: ", ")
        }
    }

    /// The class of failure.
    public var code: Code
    /// What went wrong, in a sentence.
    public var message: String
    /// Where it went wrong.
    public var location: Location
    /// The underlying error, if any (an `Errno` from a system call, say).
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    package init(_ code: Code, _ message: String, location: Location = Location(), cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }

    /// The error tree: code, reason, location, cause.
    public var description: String {
        var lines = ["AuditLogError: \(code)", "├─ Reason: \(message)"]
        if !location.isEmpty { lines.append("├─ Where: \(location)") }
        if let cause { lines.append("├─ Cause: \(cause)") }
        return lines.joined(separator: "\n")
    }

    /// One line: "message (where)".
    package var summary: String {
        location.isEmpty ? message : "\(location): \(message)"
    }

    /// A copy with location fields filled in where they are still empty.
    func located(
        file: String? = nil, offset: Int64? = nil, seq: SequenceNumber? = nil,
        line: Int? = nil, index: Int? = nil
    ) -> AuditLogError {
        var copy = self
        if copy.location.file == nil { copy.location.file = file }
        if copy.location.offset == nil { copy.location.offset = offset }
        if copy.location.seq == nil { copy.location.seq = seq }
        if copy.location.line == nil { copy.location.line = line }
        if copy.location.index == nil { copy.location.index = index }
        return copy
    }
}

extension AuditLogError {
    /// Wraps a codec error found in `file` at `baseOffset + error.offset`.
    init(_ error: FormatError, file: String, baseOffset: Int64, seq: SequenceNumber? = nil) {
        let code: Code
        switch error.kind {
        case .unsupportedVersion: code = .unsupportedVersion
        case .limitExceeded, .truncated, .malformed, .checksumMismatch: code = .corruption
        }
        self.init(code, error.message, location: Location(file: file, offset: baseOffset + Int64(error.offset), seq: seq))
    }
}
