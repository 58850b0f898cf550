#if canImport(Glibc)
    import Glibc
#endif

/// Reads events from NDJSON (one object a line; blank lines skipped) or from one JSON array of
/// objects, telling each event's line. The form is chosen by the first non-blank byte.
///
/// NDJSON streams in bounded memory (one chunk plus one line); an array is read whole.
/// Errors are ``AuditLogError`` with the 1-based line (and byte offset within the line).
package final class EventInputReader {
    private let read: (UnsafeMutableRawBufferPointer) throws(AuditLogError) -> Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    private var eof = false
    private var mode: Form?
    /// 1-based number of the next line to read.
    private var line = 1
    private var arrayPosition = 0
    private var arrayDone = false
    /// Line numbers in an array: the line at `lineCursorOffset`, advanced as elements are read
    /// (offsets only grow), so that naming a line costs what lies between two elements.
    private var lineCursorOffset = 0
    private var lineCursorLine = 1

    /// How the input holds its events.
    package enum Form: Sendable { case lines, array }

    private static let chunkBytes = 1 << 20

    /// Whether a `seq` member is dropped rather than refused (see ``AuditEvent/init(json:droppingSeq:)``).
    private let droppingSeq: Bool

    /// Reads from a source: `read` fills the buffer and returns the byte count, 0 at the end.
    package init(droppingSeq: Bool = false, read: @escaping (UnsafeMutableRawBufferPointer) throws(AuditLogError) -> Int) {
        self.read = read
        self.droppingSeq = droppingSeq
    }

    /// Reads from a file descriptor (standard input is 0).
    package convenience init(fileDescriptor fd: Int32, name: String, droppingSeq: Bool = false) {
        self.init(droppingSeq: droppingSeq) { (buffer) throws(AuditLogError) -> Int in
            while true {
                let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
                if n >= 0 { return n }
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw AuditLogError(.io, "reading \(name) failed: \(reason)", location: .init(file: name))
            }
        }
    }

    /// Reads from bytes in memory.
    package convenience init(bytes: [UInt8], droppingSeq: Bool = false) {
        var remaining = bytes[...]
        self.init(droppingSeq: droppingSeq) { (buffer) throws(AuditLogError) -> Int in
            let n = min(buffer.count, remaining.count)
            remaining.prefix(n).withUnsafeBytes { buffer.copyMemory(from: $0) }
            remaining = remaining.dropFirst(n)
            return n
        }
    }

    /// Reads more input after `end`, compacting consumed bytes. False at end of input.
    private func fill() throws(AuditLogError) -> Bool {
        guard !eof else { return false }
        if start > 0 && start == end {
            start = 0
            end = 0
        } else if start > Self.chunkBytes {
            buffer.removeSubrange(0..<start)
            end -= start
            start = 0
        }
        if buffer.count - end < Self.chunkBytes {
            buffer += [UInt8](repeating: 0, count: Self.chunkBytes - (buffer.count - end))
        }
        let from = end
        let result: Result<Int, AuditLogError> = buffer.withUnsafeMutableBytes { raw in
            do throws(AuditLogError) {
                return .success(try read(UnsafeMutableRawBufferPointer(rebasing: raw[from...])))
            } catch {
                return .failure(error)
            }
        }
        let n = try result.get()
        if n == 0 { eof = true }
        end += n
        return n > 0
    }

    /// The next event and its line, or nil at the end of the input. An event of a type the
    /// log reserves for itself (``AuditEvent/isReserved(eventType:)``) is an error naming its
    /// line: no input may carry one.
    package func next() throws(AuditLogError) -> (event: AuditEvent, line: Int)? {
        var one: [AuditEvent] = []
        guard let line = try next(into: &one), let event = one.popLast() else { return nil }
        return (event, line)
    }

    /// ``next()`` appending the event to `events` and returning its line: a reader filling a
    /// batch gets the parsed event moved into it, not copied out of a tuple and destroyed (a
    /// few percent of an ingest). At the end of the input, and after an error, `events` is as
    /// it was.
    package func next(into events: inout [AuditEvent]) throws(AuditLogError) -> Int? {
        switch try form() {
        case .lines: return try nextLine(into: &events)
        case .array:
            guard let line = try nextArrayElement(into: &events) else { return nil }
            try Self.refuseReserved(&events, line: line)
            return line
        case nil: return nil
        }
    }

    /// Takes back the event just appended to `events` when its type is one the log reserves.
    private static func refuseReserved(_ events: inout [AuditEvent], line: Int) throws(AuditLogError) {
        // Only the type is read first: `events[i].refuseReservedType()` copied the whole event
        // (a retain and a release of each of its strings) for every event of an ingest.
        guard let last = events.indices.last, AuditEvent.isReserved(eventType: events[last].eventType) else { return }
        do throws(AuditLogError) {
            try events[last].refuseReservedType()
        } catch {
            events.removeLast()
            throw error.located(line: line)
        }
    }

    /// Parses one NDJSON line (`raw`, without its line feed) numbered `number`: false for a blank
    /// line, else its event is appended to `events`. On an error `events` is as it was.
    static func parseLine(_ raw: UnsafeRawBufferPointer, number: Int, droppingSeq: Bool, into events: inout [AuditEvent]) throws(AuditLogError) -> Bool {
        if raw.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return false }
        guard raw.count <= EventLimits.maxJSONBytes else {
            throw AuditLogError(.limitExceeded, "line is longer than \(EventLimits.maxJSONBytes) bytes", location: .init(line: number))
        }
        do throws(AuditLogError) {
            events.append(try AuditEvent(jsonBytes: raw, droppingSeq: droppingSeq))
        } catch {
            throw error.located(line: number)
        }
        try refuseReserved(&events, line: number)
        return true
    }

    /// The input's form, told by its first byte that is not white space (after a UTF-8 byte
    /// order mark): nil when the input holds nothing else.
    package func form() throws(AuditLogError) -> Form? {
        if let mode { return mode }
        // A UTF-8 byte order mark (Windows tools write one) is not part of the JSON.
        while end - start < 3, try fill() {}
        if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF { start += 3 }
        while true {
            while start < end, [0x20, 0x09, 0x0A, 0x0D].contains(buffer[start]) {
                if buffer[start] == 0x0A { line += 1 }
                start += 1
            }
            if start < end { break }
            guard try fill() else { return nil }
        }
        mode = buffer[start] == UInt8(ascii: "[") ? .array : .lines
        return mode
    }

    /// The next whole lines of NDJSON input, at most `maxLines` of them and at most
    /// ``LineBlock/maxBytes`` bytes unless one line alone is longer: nil at the end of the
    /// input. Cutting lines is a `memchr` and a copy; parsing them
    /// (``LineBlock/parse(into:lines:)``) can then run on another core. For input whose
    /// ``form()`` is `.lines` only.
    package func nextLines(upTo maxLines: Int) throws(AuditLogError) -> LineBlock? {
        precondition(mode == .lines, "nextLines(upTo:) reads NDJSON only")
        // Offsets from `start`, which `fill()` may move.
        var scanned = 0
        var cut = 0  // after the last whole line taken
        var count = 0
        while count < max(1, maxLines) {
            if let i = Self.firstNewline(in: buffer, from: start + scanned, to: end) {
                count += 1
                scanned = i + 1 - start
                cut = scanned
                if cut >= LineBlock.maxBytes { break }
                continue
            }
            scanned = end - start
            // A line longer than any event may be: the lines before it go out first, and the
            // next call names it.
            if scanned - cut > EventLimits.maxJSONBytes {
                if cut > 0 { break }
                throw AuditLogError(.limitExceeded, "line is longer than \(EventLimits.maxJSONBytes) bytes", location: .init(line: line))
            }
            guard try fill() else {
                if scanned > cut {  // the last line, without a line feed
                    cut = scanned
                    count += 1
                }
                break
            }
        }
        guard cut > 0 else { return nil }
        let block = LineBlock(bytes: Array(buffer[start..<(start + cut)]), firstLine: line, droppingSeq: droppingSeq)
        start += cut
        line += count
        return block
    }

    private func nextLine(into events: inout [AuditEvent]) throws(AuditLogError) -> Int? {
        while true {
            var newline: Int?
            var scan = start
            while true {
                if let i = Self.firstNewline(in: buffer, from: scan, to: end) {
                    newline = i
                    break
                }
                guard end - start <= EventLimits.maxJSONBytes else {
                    throw AuditLogError(.limitExceeded, "line is longer than \(EventLimits.maxJSONBytes) bytes", location: .init(line: line))
                }
                let scanned = end - start
                guard try fill() else { break }
                scan = start + scanned
            }
            let lineEnd = newline ?? end
            let number = line
            let lineStart = start
            start = newline.map { $0 + 1 } ?? end
            line += 1
            let parsed = try buffer.withRawBytes { (raw) throws(AuditLogError) in
                try Self.parseLine(UnsafeRawBufferPointer(rebasing: raw[lineStart..<lineEnd]), number: number, droppingSeq: droppingSeq, into: &events)
            }
            if parsed { return number }
            if newline == nil && eof { return nil }
        }
    }

    /// The index of the first line feed in `buffer[from..<to]`, found with `memchr` (a word or
    /// a vector at a time, where a byte loop over every line was a few percent of an ingest).
    private static func firstNewline(in buffer: [UInt8], from: Int, to: Int) -> Int? {
        buffer.withUnsafeBytes { raw in
            guard from < to, let base = raw.baseAddress, let hit = memchr(base + from, 0x0A, to - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }

    private func nextArrayElement(into events: inout [AuditEvent]) throws(AuditLogError) -> Int? {
        if arrayDone { return nil }
        if arrayPosition == 0 {
            while try fill() {}
            arrayPosition = start + 1  // after '['
            lineCursorOffset = start
            lineCursorLine = line
        }
        let limit = end
        let result: Result<Int?, AuditLogError> = buffer.withUnsafeBytes { raw in
            let all = UnsafeRawBufferPointer(rebasing: raw[0..<limit])
            var p = JSONParser(all, position: arrayPosition)
            func lineAt(_ offset: Int) -> Int {
                if offset < lineCursorOffset {  // an error's offset before the cursor: count afresh
                    return line + all[start..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                }
                for b in all[lineCursorOffset..<offset] where b == 0x0A { lineCursorLine += 1 }
                lineCursorOffset = offset
                return lineCursorLine
            }
            p.skipWhitespace()
            if p.peek == UInt8(ascii: "]") {
                p.position += 1
                p.skipWhitespace()
                guard p.isAtEnd else {
                    return .failure(AuditLogError(.invalidEvent, "unexpected data after the JSON array", location: .init(line: lineAt(p.position))))
                }
                arrayDone = true
                return .success(nil)
            }
            let elementStart = p.position
            let elementLine = lineAt(elementStart)
            do throws(AuditLogError) {
                let event = try AuditEvent.parseObject(&p, droppingSeq: droppingSeq)
                p.skipWhitespace()
                switch p.peek {
                case UInt8(ascii: ","):
                    p.position += 1
                    p.skipWhitespace()
                    if p.peek == UInt8(ascii: "]") {
                        return .failure(AuditLogError(.invalidEvent, "trailing ',' before ']'", location: .init(line: lineAt(p.position))))
                    }
                case UInt8(ascii: "]"):
                    break
                default:
                    return .failure(AuditLogError(.invalidEvent, "expected ',' or ']' after an array element", location: .init(line: lineAt(p.position))))
                }
                arrayPosition = p.position
                events.append(event)
                return .success(elementLine)
            } catch {
                var located = error
                if let offset = error.location.offset {
                    located.location.offset = nil
                    located.location.line = lineAt(Int(offset))
                } else {
                    located.location.line = elementLine
                }
                return .failure(located)
            }
        }
        return try result.get()
    }
}
