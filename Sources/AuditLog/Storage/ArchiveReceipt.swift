/// The proof, kept beside a segment (`segments/<first seq>.arc`, docs/FORMAT.md "Archive
/// receipts"), that the segment (and its index) are in the object store: written once the store
/// confirmed each object's size and checksum. Once the local copy is evicted it stands in for
/// the segment: it names the objects and keeps the segment's header and footer, so a log opens
/// without a request and reads the rest through ``RemoteSegmentFile``.
struct ArchiveReceipt: Sendable, Hashable {
    static let version = 1

    /// The segment file name.
    var segment: String
    /// Its object key, size and SHA-256.
    var key: String
    var size: Int64
    var sha256: [UInt8]
    /// The index file's object, when it was uploaded (nil: the index stays local).
    var indexKey: String?
    var indexSize: Int64?
    var indexSHA256: [UInt8]?
    /// The segment's first and last bytes, as read before upload (header and footer).
    var header: [UInt8]
    var footer: [UInt8]
    /// When the upload was confirmed (UTC).
    var confirmedAt: Timestamp
    /// Until when the objects are locked (COMPLIANCE mode), when they are.
    var retainUntil: Timestamp?

    func encoded() -> [UInt8] {
        var members: [JSONMember] = [
            JSONMember("version", .integer(Self.version)),
            JSONMember("segment", .string(segment)),
            JSONMember("key", .string(key)),
            JSONMember("size", .integer(size)),
            JSONMember("sha256", .string(Hex.encode(sha256))),
        ]
        if let indexKey, let indexSize, let indexSHA256 {
            members += [
                JSONMember("index_key", .string(indexKey)), JSONMember("index_size", .integer(indexSize)),
                JSONMember("index_sha256", .string(Hex.encode(indexSHA256))),
            ]
        }
        members += [
            JSONMember("header", .string(Base64.encode(header))),
            JSONMember("footer", .string(Base64.encode(footer))),
            JSONMember("confirmed_at", .string(confirmedAt.rfc3339)),
        ]
        if let retainUntil { members.append(JSONMember("retain_until", .string(retainUntil.rfc3339))) }
        return Array((JSONValue.object(members).jsonText + "\n").utf8)
    }

    /// Decodes a receipt; an error names `file` and the field at fault.
    static func decode(_ bytes: [UInt8], file: String) throws(AuditLogError) -> ArchiveReceipt {
        func bad(_ field: String, _ why: String = "is missing or malformed") -> AuditLogError {
            AuditLogError(.corruption, "archive receipt field '\(field)' \(why)", location: .init(file: file, field: field))
        }
        let value: JSONValue
        do { value = try JSONValue.parse(String(decoding: bytes, as: UTF8.self)) } catch { throw bad("(document)", "is not JSON: \(error.message)") }
        func string(_ f: String) throws(AuditLogError) -> String {
            guard let s = value[f]?.stringValue else { throw bad(f) }
            return s
        }
        func integer(_ f: String) throws(AuditLogError) -> Int64 {
            guard case .number(let n)? = value[f], let i = Int64(n), i >= 0 else { throw bad(f) }
            return i
        }
        func hex(_ f: String) throws(AuditLogError) -> [UInt8] {
            guard let bytes = Hex.decode(try string(f)), bytes.count == 32 else { throw bad(f) }
            return bytes
        }
        func base64(_ f: String) throws(AuditLogError) -> [UInt8] {
            guard let bytes = Base64.decode(try string(f)) else { throw bad(f) }
            return bytes
        }
        func time(_ f: String) throws(AuditLogError) -> Timestamp {
            guard let t = Timestamp(rfc3339: try string(f)) else { throw bad(f) }
            return t
        }
        guard try integer("version") == Int64(version) else {
            throw AuditLogError(.unsupportedVersion, "archive receipt version \(value["version"]?.jsonText ?? "?") is not \(version)", location: .init(file: file, field: "version"))
        }
        var receipt = ArchiveReceipt(
            segment: try string("segment"), key: try string("key"), size: try integer("size"), sha256: try hex("sha256"),
            header: try base64("header"), footer: try base64("footer"), confirmedAt: try time("confirmed_at"))
        if value["index_key"] != nil {
            receipt.indexKey = try string("index_key")
            receipt.indexSize = try integer("index_size")
            receipt.indexSHA256 = try hex("index_sha256")
        }
        if value["retain_until"] != nil { receipt.retainUntil = try time("retain_until") }
        guard receipt.header.count <= receipt.size, receipt.footer.count <= receipt.size else { throw bad("footer", "is longer than the segment") }
        return receipt
    }
}
