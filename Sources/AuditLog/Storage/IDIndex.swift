/// The writer's map from event id to seq, to refuse a duplicate client-supplied id.
///
/// It keeps 32-bit hashes of ids (the low half of XXH3-64, as index files store them) with the
/// seqs that have them; a hit is confirmed by reading the record, so a hash collision never
/// rejects a new id. An entry the writer made from the id itself also carries 23 bits of the
/// hash's upper half, so that a hit on a different id (at 10 million ids, one new id in 400
/// shares the low half with one of them) is told apart without reading a record. It is built on
/// first need — from the index files' id tables where a storage observer has them (a sealed
/// segment costs its id table, not a decode: an archived one is not downloaded), else by
/// reading every record's id — then kept up to date by the writer.
struct IDIndex {
    /// The entries, in an open-addressing table keyed by the 32-bit hash (below).
    private var table = HashSlots()

    var count: Int { table.count }

    static func hash(_ id: String) -> UInt32 { UInt32(truncatingIfNeeded: fullHash(id)) }

    /// The 32-bit hash of an id given as its UTF-8 bytes.
    static func hash(utf8 id: UnsafeRawBufferPointer) -> UInt32 { UInt32(truncatingIfNeeded: Checksum.xxh3(id)) }

    /// XXH3-64 of the id's UTF-8.
    static func fullHash(_ id: String) -> UInt64 {
        id.withUTF8Bytes { Checksum.xxh3($0) }
    }

    private static let tagged: UInt64 = 1 << 63
    private static let seqMask: UInt64 = (1 << 40) - 1
    private static let tagMask: UInt64 = (1 << 23) - 1

    private static func tag(_ full: UInt64) -> UInt64 { (full >> 32) & tagMask }

    /// An entry: the seq, or, with bit 63 set, the seq (below 2⁴⁰) in bits 0–39 and a tag (23
    /// bits of the upper half of the id's hash) in bits 40–62. Never 0 (seqs start at 1).
    private static func entry(seq: UInt64, full: UInt64?) -> UInt64 {
        guard let full, seq <= seqMask else { return seq }
        return tagged | tag(full) << 40 | seq
    }

    /// The seq holding the id whose ``fullHash(_:)`` is `full`, if any. `holds` says whether the
    /// record at a seq has that id (it reads the record): asked only of an entry whose tag
    /// matches or that has none, so that a lookup that finds nothing (a new id) reads nothing
    /// and never needs the id itself.
    func seq(fullHash full: UInt64, holds: (UInt64) throws(AuditLogError) -> Bool) throws(AuditLogError) -> UInt64? {
        var slot = table.firstSlot(UInt32(truncatingIfNeeded: full))
        while let entry = table.next(&slot) {
            let seq: UInt64
            if entry & Self.tagged != 0 {
                guard (entry >> 40) & Self.tagMask == Self.tag(full) else { continue }
                seq = entry & Self.seqMask
            } else {
                seq = entry
            }
            if try holds(seq) { return seq }
        }
        return nil
    }

    /// Records `id` at `seq`; the caller has checked it is not present.
    mutating func insert(_ id: String, seq: UInt64) {
        insert(fullHash: Self.fullHash(id), seq: seq)
    }

    /// The same, given the id's ``fullHash(_:)``.
    mutating func insert(fullHash full: UInt64, seq: UInt64) {
        table.insert(UInt32(truncatingIfNeeded: full), Self.entry(seq: seq, full: full))
    }

    /// Starts loading the table's slots for these ids (``fullHash(_:)``s) ahead of their lookups
    /// and inserts.
    func prefetch(_ fullHashes: [UInt64]) {
        for full in fullHashes { table.prefetch(UInt32(truncatingIfNeeded: full)) }
    }

    /// Makes room for `count` more entries at once.
    mutating func reserve(_ count: Int) { table.reserve(table.count + count) }

    /// The ids of every record in `segments`: a sealed segment's from `observer`'s id table when
    /// it has one, the rest read from the records.
    static func build(_ directory: LogDirectory, segments: [SegmentInfo], observers: [any StorageObserver] = []) throws(AuditLogError) -> IDIndex {
        var index = IDIndex()
        index.reserve(Int(segments.reduce(0) { $0 + $1.recordCount }))
        var ids: [(String, UInt64)] = []
        for info in segments {
            try info.checkReadable()
            if info.isSealed, let table = observers.lazy.compactMap({ $0.idHashes(ofSealed: info) }).first {
                for (hash, seq) in table where seq != 0 { index.table.insert(hash, seq) }
                continue
            }
            let walker = try SegmentWalker(directory, info.fileName, limit: info.dataEnd)
            walk: while true {
                switch try walker.next(.decompress) {
                case .frame:
                    ids.removeAll(keepingCapacity: true)
                    do throws(FormatError) {
                        try walker.forEachRecord { (seq, record) throws(FormatError) in
                            ids.append((try AuditEvent.recordID(record), seq.rawValue))
                        }
                    } catch {
                        throw AuditLogError(
                            .corruption, "undecodable record: \(error.message)", location: .init(file: walker.displayName, seq: SequenceNumber(walker.nextSeq.rawValue - UInt64(walker.records.count))))
                    }
                    for (id, seq) in ids { index.insert(id, seq: seq) }
                case .damage(let damage):
                    throw damage.error(in: walker.displayName)
                case .end, .footer, .tornTail:
                    break walk
                }
            }
        }
        return index
    }
}
