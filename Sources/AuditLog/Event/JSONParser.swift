/// A strict RFC 8259 parser over UTF-8 bytes, written for the ingest path: no Foundation, no
/// floating point, numbers kept as literal text, duplicate object keys and invalid UTF-8
/// rejected, nesting bounded. Errors carry the byte offset.
struct JSONParser {
    struct SyntaxError: Error, Sendable {
        var message: String
        var offset: Int
    }

    let bytes: UnsafeRawBufferPointer
    var position: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    @inline(__always)
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Moves past JSON white space. Inlined up to the first byte: compact JSON (what gateways
    /// and `auditlog export` write) has none, and this runs several times a member.
    @inline(__always)
    mutating func skipWhitespace() {
        guard position < bytes.count, bytes[position] <= 0x20 else { return }
        skipWhitespaceBytes()
    }

    private mutating func skipWhitespaceBytes() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    func error(_ message: String, at offset: Int? = nil) -> SyntaxError {
        SyntaxError(message: message, offset: offset ?? position)
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
        skipWhitespace()
        guard peek == byte else { throw unexpected(expecting: what) }
        position += 1
    }

    func unexpected(expecting what: String) -> SyntaxError {
        guard let c = peek else { return error("unexpected end of input, expected \(what)") }
        if c >= 0x20 && c < 0x7F {
            return error("unexpected '\(Character(Unicode.Scalar(c)))', expected \(what)")
        }
        return error("unexpected byte 0x\(String(c, radix: 16)), expected \(what)")
    }

    /// Parses any value.
    /// The parser's own nesting bound, counted from the event object: loose enough that a
    /// policy's extra member (three levels below the event) can hold the 62 nested arrays and
    /// objects any field value may (``JSONValue/maxDepth``); ``AuditEvent/validate()`` applies
    /// the exact rule at append.
    static let maxDepth = JSONValue.maxDepth + 3

    mutating func parseValue(depth: Int = 0) throws(SyntaxError) -> JSONValue {
        skipWhitespace()
        guard let c = peek else { throw error("unexpected end of input, expected a value") }
        switch c {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw error("nesting deeper than a field value may hold (\(JSONValue.maxDepth - 2) arrays and objects)") }
            return .object(try parseObjectMembers(depth: depth + 1))
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw error("nesting deeper than a field value may hold (\(JSONValue.maxDepth - 2) arrays and objects)") }
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if peek == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if peek == UInt8(ascii: ",") { position += 1; continue }
                if peek == UInt8(ascii: "]") { position += 1; return .array(items) }
                throw unexpected(expecting: "',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try parseNumberRange()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
        default:
            if c == UInt8(ascii: "N") || c == UInt8(ascii: "I") {
                throw error("NaN and Infinity are not JSON numbers")
            }
            throw unexpected(expecting: "a value")
        }
    }

    /// Parses `{ "k": v, … }` into members, rejecting duplicate keys.
    mutating func parseObjectMembers(depth: Int) throws(SyntaxError) -> [JSONMember] {
        try expect(UInt8(ascii: "{"), "'{'")
        var members: [JSONMember] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") { position += 1; return members }
        while true {
            skipWhitespace()
            let keyOffset = position
            guard peek == UInt8(ascii: "\"") else { throw unexpected(expecting: "a member name") }
            let key = try parseString()
            if members.count < 16 {
                if members.contains(where: { $0.key == key }) {
                    throw error("duplicate key \"\(key)\"", at: keyOffset)
                }
            } else if Set(members.map(\.key)).contains(key) {
                throw error("duplicate key \"\(key)\"", at: keyOffset)
            }
            try expect(UInt8(ascii: ":"), "':'")
            members.append(JSONMember(key, try parseValue(depth: depth)))
            skipWhitespace()
            if peek == UInt8(ascii: ",") { position += 1; continue }
            if peek == UInt8(ascii: "}") { position += 1; return members }
            throw unexpected(expecting: "',' or '}'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let n = word.utf8CodeUnitCount
        guard position + n <= bytes.count else { throw error("invalid literal") }
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
        for i in 0..<n where bytes[position + i] != w[i] {
            throw error("invalid literal")
        }
        position += n
    }

    /// The byte range of a number literal, validated against the JSON grammar.
    mutating func parseNumberRange() throws(SyntaxError) -> Range<Int> {
        let start = position
        if peek == UInt8(ascii: "-") { position += 1 }
        guard let first = peek, first >= 48, first <= 57 else {
            if peek == UInt8(ascii: "I") { throw error("NaN and Infinity are not JSON numbers") }
            throw error("invalid number", at: start)
        }
        if first == 48 {
            position += 1
            if let c = peek, c >= 48, c <= 57 { throw error("leading zeros are not allowed in numbers", at: start) }
        } else {
            while let c = peek, c >= 48, c <= 57 { position += 1 }
        }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard let c = peek, c >= 48, c <= 57 else { throw error("invalid number: no digit after '.'", at: start) }
            while let c = peek, c >= 48, c <= 57 { position += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard let c = peek, c >= 48, c <= 57 else { throw error("invalid number: no digit in exponent", at: start) }
            while let c = peek, c >= 48, c <= 57 { position += 1 }
        }
        guard position - start <= 512 else { throw error("number literal longer than 512 characters", at: start) }
        return start..<position
    }

    static func isValidNumberLiteral(_ text: String) -> Bool {
        text.withUTF8Bytes { isValidNumberLiteral($0) }
    }

    /// Whether the UTF-8 bytes are exactly one JSON number literal.
    static func isValidNumberLiteral(_ utf8: UnsafeRawBufferPointer) -> Bool {
        var p = JSONParser(utf8)
        guard let range = try? p.parseNumberRange() else { return false }
        return range.upperBound == utf8.count
    }

    /// At an opening quote: when the string has no escapes and no control characters, moves
    /// past it and returns the range of its content (not yet checked as UTF-8); otherwise
    /// leaves the position unchanged and returns nil.
    mutating func scanPlainString() -> Range<Int>? {
        guard peek == UInt8(ascii: "\""), let stop = jsonStringStop(in: bytes, from: position + 1), bytes[stop] == UInt8(ascii: "\"") else { return nil }
        let range = (position + 1)..<stop
        position = stop + 1
        return range
    }

    /// Consumes `word` if it is next; false (position unchanged) otherwise.
    mutating func consumeLiteral(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard position + n <= bytes.count else { return false }
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
        for i in 0..<n where bytes[position + i] != w[i] { return false }
        position += n
        return true
    }

    /// Parses a string literal starting at the opening quote.
    mutating func parseString() throws(SyntaxError) -> String {
        let open = position
        position += 1
        let start = position
        // Fast path: no escapes.
        guard let stop = jsonStringStop(in: bytes, from: start) else {
            position = bytes.count
            throw error("unterminated string", at: open)
        }
        position = stop
        if bytes[stop] == UInt8(ascii: "\"") {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<stop])
            position += 1
            guard let s = makeString(raw) else {
                throw error("string is not valid UTF-8", at: open)
            }
            return s
        }
        if bytes[stop] < 0x20 { throw error("control character in string", at: position) }
        // A backslash: the escapes are decoded byte by byte from here.
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                position += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("string is not valid UTF-8", at: open)
                }
                return s
            }
            if c < 0x20 { throw error("control character in string", at: position) }
            if c != UInt8(ascii: "\\") { out.append(c); position += 1; continue }
            position += 1
            guard let e = peek else { break }
            position += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                        bytes[position + 1] == UInt8(ascii: "u")
                    else { throw error("unpaired surrogate in \\u escape") }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: position - 2)
            }
        }
        throw error("unterminated string", at: open)
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }
}
