/// Appends compact JSON text to a byte buffer. Strings are escaped per RFC 8259 (quote,
/// backslash and control characters); everything else is written as is.
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func raw(_ s: String) {
        s.withUTF8Bytes { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        s.withUTF8Bytes { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart..<i]))
                switch c {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    raw("\\u00")
                    bytes.append(hex[Int(c >> 4)])
                    bytes.append(hex[Int(c & 0xF)])
                }
                runStart = i + 1
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func value(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): b ? raw("true") : raw("false")
        case .number(let n): raw(n)
        case .string(let s): string(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (i, m) in members.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                string(m.key)
                bytes.append(UInt8(ascii: ":"))
                value(m.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// Compact JSON text.
    public var jsonText: String {
        var w = JSONWriter()
        w.value(self)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// A JSON string value, or null when nil.
    package static func string(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    /// A JSON number from an integer.
    package static func integer<I: BinaryInteger>(_ i: I) -> JSONValue { .number(String(i)) }
}

extension AuditEvent {
    /// Appends the compact JSON object (with `seq` first when given) to `bytes`; the fast path
    /// for exports.
    package func appendJSON(to bytes: inout [UInt8], seq: SequenceNumber? = nil) {
        var w = JSONWriter(capacity: 0)
        swap(&w.bytes, &bytes)
        writeJSON(to: &w, seq: seq)
        swap(&w.bytes, &bytes)
    }
}

extension JSONValue {
    /// Parses JSON text (strictly: duplicate keys, NaN and excessive nesting are errors).
    package static func parse(_ text: String) throws(AuditLogError) -> JSONValue {
        let result: Result<JSONValue, AuditLogError> = text.withUTF8Bytes { utf8 in
            var p = JSONParser(utf8)
            do throws(JSONParser.SyntaxError) {
                let value = try p.parseValue()
                p.skipWhitespace()
                guard p.isAtEnd else { return .failure(AuditLogError(.invalidArgument, "unexpected data after the JSON value", location: .init(offset: Int64(p.position)))) }
                return .success(value)
            } catch {
                return .failure(AuditLogError(.invalidArgument, "invalid JSON: \(error.message)", location: .init(offset: Int64(error.offset))))
            }
        }
        return try result.get()
    }
}
