/// The writer's map from event id to seq, to refuse a duplicate client-supplied id.
///
/// It keeps 64-bit XXH3 hashes of ids (a hit is confirmed by reading the record, so a hash
/// collision never rejects a new id) and is built on first need by scanning the ids of every
/// record, then kept up to date by the writer.
struct IDIndex {
    private var seqByHash: [UInt64: UInt64] = [:]
    /// Ids whose hash collided with an earlier, different id.
    private var overflow: [String: UInt64] = [:]

    var count: Int { seqByHash.count + overflow.count }

    static func hash(_ id: String) -> UInt64 {
        var s = id
        return s.withUTF8 { Checksum.xxh3(UnsafeRawBufferPointer($0)) }
    }

    /// The seq holding `id`, if any. `idAt` reads the id stored at a seq.
    func seq(of id: String, idAt: (UInt64) throws(AuditLogError) -> String?) throws(AuditLogError) -> UInt64? {
        if let seq = overflow[id] { return seq }
        guard let seq = seqByHash[Self.hash(id)] else { return nil }
        return try idAt(seq) == id ? seq : nil
    }

    /// Records `id` at `seq`; the caller has checked it is not present.
    mutating func insert(_ id: String, seq: UInt64) {
        let h = Self.hash(id)
        if seqByHash[h] == nil {
            seqByHash[h] = seq
        } else {
            overflow[id] = seq
        }
    }

    /// Reads the ids of every record in `segments`.
    static func build(_ directory: LogDirectory, segments: [SegmentInfo]) throws(AuditLogError) -> IDIndex {
        var index = IDIndex()
        index.seqByHash.reserveCapacity(Int(segments.reduce(0) { $0 + $1.recordCount }))
        var ids: [(String, UInt64)] = []
        for info in segments {
            try info.checkReadable()
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
