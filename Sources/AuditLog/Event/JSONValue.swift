/// A JSON value kept exactly as received: numbers as their literal text, object members in
/// their original order. Used for `details`, unknown top-level fields and the unknown members
/// of policies and redactions, so that nothing a gateway sends is lost or reformatted.
public indirect enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number as its JSON literal, e.g. `"1.50"` or `"-3e2"` (never NaN or Infinity).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The value of the first member named `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// One member of a JSON object.
public struct JSONMember: Hashable, Sendable {
    /// The member name.
    public var key: String
    /// The member value.
    public var value: JSONValue

    /// Creates a member.
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONValue {
    // Binary tags (docs/FORMAT.md, "JSON values").
    private static let tagNull: UInt8 = 0
    private static let tagFalse: UInt8 = 1
    private static let tagTrue: UInt8 = 2
    private static let tagNumber: UInt8 = 3
    private static let tagString: UInt8 = 4
    private static let tagArray: UInt8 = 5
    private static let tagObject: UInt8 = 6

    /// Deepest nesting a decoder accepts (matches the JSON parser's limit).
    static let maxDepth = 64

    func encode<Sink: ByteSink>(to w: inout Sink) {
        switch self {
        case .null: w.append(Self.tagNull)
        case .bool(let b): w.append(b ? Self.tagTrue : Self.tagFalse)
        case .number(let n): w.append(Self.tagNumber); w.appendString(n)
        case .string(let s): w.append(Self.tagString); w.appendString(s)
        case .array(let items):
            w.append(Self.tagArray)
            w.appendVarint(UInt64(items.count))
            for item in items { item.encode(to: &w) }
        case .object(let members):
            w.append(Self.tagObject)
            Self.encodeMembers(members, to: &w)
        }
    }

    static func encodeMembers<Sink: ByteSink>(_ members: [JSONMember], to w: inout Sink) {
        w.appendVarint(UInt64(members.count))
        for m in members {
            w.appendString(m.key)
            m.value.encode(to: &w)
        }
    }

    static func decode(from r: inout ByteReader, depth: Int = 0) throws(FormatError) -> JSONValue {
        guard depth < maxDepth else {
            throw FormatError(.limitExceeded, "JSON value nested deeper than \(maxDepth)", offset: r.offset)
        }
        let start = r.offset
        switch try r.readUInt8("JSON tag") {
        case tagNull: return .null
        case tagFalse: return .bool(false)
        case tagTrue: return .bool(true)
        case tagNumber:
            let text = try r.readString("number")
            guard JSONParser.isValidNumberLiteral(text) else {
                throw FormatError(.malformed, "stored number \"\(text)\" is not a JSON number", offset: start)
            }
            return .number(text)
        case tagString: return .string(try r.readString("string"))
        case tagArray:
            let count = try r.readVarint("array count")
            guard count <= UInt64(r.remaining) else {
                throw FormatError(.truncated, "array of \(count) items runs past the end", offset: start)
            }
            var items: [JSONValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count { items.append(try decode(from: &r, depth: depth + 1)) }
            return .array(items)
        case tagObject:
            return .object(try decodeMembers(from: &r, depth: depth + 1))
        case let tag:
            throw FormatError(.malformed, "unknown JSON tag \(tag)", offset: start)
        }
    }

    static func decodeMembers(from r: inout ByteReader, depth: Int) throws(FormatError) -> [JSONMember] {
        let start = r.offset
        let count = try r.readVarint("object count")
        guard count <= UInt64(r.remaining) else {
            throw FormatError(.truncated, "object of \(count) members runs past the end", offset: start)
        }
        var members: [JSONMember] = []
        members.reserveCapacity(Int(count))
        for _ in 0..<count {
            let key = try r.readString("key")
            members.append(JSONMember(key, try decode(from: &r, depth: depth)))
        }
        return members
    }
}

extension JSONValue {
    /// One JSON document (a request body, a small state file), strictly parsed; an error names
    /// the byte offset and, with `file`, the file.
    package static func parse(_ bytes: [UInt8], file: String? = nil) throws(AuditLogError) -> JSONValue {
        let result: Result<JSONValue, JSONParser.SyntaxError> = bytes.withUnsafeBytes { raw in
            var parser = JSONParser(raw)
            do throws(JSONParser.SyntaxError) {
                let value = try parser.parseValue()
                parser.skipWhitespace()
                guard parser.isAtEnd else { throw parser.error("unexpected text after the JSON value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error):
            throw AuditLogError(.invalidArgument, "not valid JSON: \(error.message)", location: .init(file: file, offset: Int64(error.offset)))
        }
    }

    /// The integer, when this is a number literal of one.
    package var intValue: Int64? {
        if case .number(let text) = self { return Int64(text) }
        return nil
    }

    /// The Boolean, when this is one.
    package var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The items, when this is an array.
    package var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
