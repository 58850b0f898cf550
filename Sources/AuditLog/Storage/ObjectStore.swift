/// Where sealed segments go beyond the local disk: a store of immutable, named objects
/// (``S3Client`` for any S3-compatible service). Storage reads archived segments through it
/// (``RemoteSegmentFile``) and the archive layer writes them; neither depends on how it talks.
///
/// Calls block until answered: they are made from the library's blocking executor or the
/// uploader's own thread, never from the cooperative pool.
protocol ObjectStore: AnyObject, Sendable {
    /// Writes an object once: `.exists` when one with the key is already there (never replaced).
    /// `sha256` is sent for the store to check; `retainUntil` locks it (WORM) until then.
    func put(_ key: String, _ body: [UInt8], sha256: [UInt8], retainUntil: Timestamp?) throws(AuditLogError) -> PutOutcome
    /// The object's size and stored checksum, or nil when there is none.
    func head(_ key: String) throws(AuditLogError) -> ObjectInfo?
    /// The bytes of `range` of the object (short only at its end).
    func get(_ key: String, range: Range<Int64>) throws(AuditLogError) -> [UInt8]
    /// Deletes an object; a missing one is not an error.
    func delete(_ key: String) throws(AuditLogError)
    /// Every object under `prefix`, in key order.
    func list(prefix: String) throws(AuditLogError) -> [ListedObject]
    /// How errors and reports name an object (`s3://bucket/key`).
    func describe(_ key: String) -> String
}

/// What a conditional write found.
enum PutOutcome: Sendable, Equatable {
    /// The object was written.
    case created
    /// An object with the key was already there (nothing was written).
    case exists
}

/// One object of a listing.
struct ListedObject: Sendable, Equatable {
    var key: String
    var size: Int64
}

/// What a HEAD tells of an object.
struct ObjectInfo: Sendable, Equatable {
    var size: Int64
    /// The SHA-256 the store keeps for it, when it keeps one.
    var sha256: [UInt8]?
    /// The entity tag (for a single-part upload, the MD5 of the bytes at most stores).
    var etag: String?
    /// The version, in a versioned bucket (object lock needs one).
    var versionID: String? = nil
}
