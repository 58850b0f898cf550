/// The writer's map from event id to seq, to refuse a duplicate client-supplied id.
///
/// It keeps 32-bit hashes of ids (the low half of XXH3-64, as index files store them) with the
/// seqs that have them; a hit is confirmed by reading the record, so a hash collision never
/// rejects a new id. It is built on first need — from the index files' id tables where a
/// storage observer has them (a sealed segment costs its id table, not a decode: an archived one
/// is not downloaded), else by reading every record's id — then kept up to date by the writer.
struct IDIndex {
    private var seqByHash: [UInt32: UInt64] = [:]
    /// Further seqs of hashes held more than once.
    private var more: [UInt32: [UInt64]] = [:]

    var count: Int { seqByHash.count + more.values.reduce(0) { $0 + $1.count } }

    static func hash(_ id: String) -> UInt32 {
        var s = id
        return UInt32(truncatingIfNeeded: s.withUTF8 { Checksum.xxh3(UnsafeRawBufferPointer($0)) })
    }

    /// The seq holding `id`, if any. `idAt` reads the id stored at a seq.
    func seq(of id: String, idAt: (UInt64) throws(AuditLogError) -> String?) throws(AuditLogError) -> UInt64? {
        let h = Self.hash(id)
        guard let first = seqByHash[h] else { return nil }
        for seq in [first] + (more[h] ?? []) where try idAt(seq) == id { return seq }
        return nil
    }

    /// Records `id` at `seq`; the caller has checked it is not present.
    mutating func insert(_ id: String, seq: UInt64) { insert(hash: Self.hash(id), seq: seq) }

    private mutating func insert(hash h: UInt32, seq: UInt64) {
        if seqByHash[h] == nil {
            seqByHash[h] = seq
        } else {
            more[h, default: []].append(seq)
        }
    }

    /// The ids of every record in `segments`: a sealed segment's from `observer`'s id table when
    /// it has one, the rest read from the records.
    static func build(_ directory: LogDirectory, segments: [SegmentInfo], observers: [any StorageObserver] = []) throws(AuditLogError) -> IDIndex {
        var index = IDIndex()
        index.seqByHash.reserveCapacity(Int(segments.reduce(0) { $0 + $1.recordCount }))
        var ids: [(String, UInt64)] = []
        for info in segments {
            try info.checkReadable()
            if info.isSealed, let table = observers.lazy.compactMap({ $0.idHashes(ofSealed: info) }).first {
                for (hash, seq) in table { index.insert(hash: hash, seq: seq) }
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
