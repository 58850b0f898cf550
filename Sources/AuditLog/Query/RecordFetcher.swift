/// Fetches single records of one segment by ordinal, each frame read, checked and
/// decompressed at most once while a query walks it. Frames come from the log's
/// ``FrameCache`` when it holds them (the segment file is opened only on a miss); what it
/// loads goes there too as far as the query's ``FrameCache/Budget`` allows (whole scans decode
/// in place past it and leave the cache to the queries that profit from it).
final class RecordFetcher {
    private let paths: LogPaths
    private let segment: SegmentInfo
    private let frames: [FrameEntry]
    private let cache: FrameCache?
    private let budget: FrameCache.Budget?
    private var reader: SegmentReader?
    private var loadedFrame = -1
    /// The loaded frame when it came from (or went into) the cache; else it is in `reader`.
    private var shared: DecodedFrame?
    private var ranges: [Range<Int>] = []

    /// `budget` nil: never fill the cache.
    init(paths: LogPaths, view: IndexView, cache: FrameCache?, budget: FrameCache.Budget?) {
        self.paths = paths
        segment = view.segment
        frames = view.frames
        self.cache = cache
        self.budget = budget
    }

    /// Calls `body` with the loaded frame's payload.
    private func withPayload<T>(_ body: (UnsafeRawBufferPointer) throws(FormatError) -> T) throws(FormatError) -> T {
        if let shared { return try shared.payload.withRawBytes(body) }
        return try (reader?.rawBuffer ?? []).withRawBytes(body)
    }

    private var displayName: String { LogPaths.displayName(segment.fileName) }

    /// The event at `ordinal` (seq `firstSeq + ordinal`).
    func event(at ordinal: Int) throws(AuditLogError) -> AuditEvent {
        let seq = segment.firstSeq.rawValue + UInt64(ordinal)
        let range = try locate(seq)
        do throws(FormatError) {
            return try withPayload { (raw) throws(FormatError) in
                try AuditEvent.decodeRecord(UnsafeRawBufferPointer(rebasing: raw[range]))
            }
        } catch {
            throw AuditLogError(.corruption, "undecodable record: \(error.message)", location: .init(file: displayName, offset: frames[loadedFrame].offset, seq: SequenceNumber(seq)))
        }
    }

    /// Appends the record at `ordinal` as JSON, transcoded from its bytes.
    func appendJSON(at ordinal: Int, seq: SequenceNumber, to out: inout [UInt8]) throws(AuditLogError) {
        let range = try locate(segment.firstSeq.rawValue + UInt64(ordinal))
        do throws(FormatError) {
            try withPayload { (raw) throws(FormatError) in
                try RecordJSON.append(UnsafeRawBufferPointer(rebasing: raw[range]), seq: seq, to: &out)
            }
        } catch {
            throw AuditLogError(.corruption, "undecodable record: \(error.message)", location: .init(file: displayName, offset: frames[loadedFrame].offset, seq: seq))
        }
    }

    /// Loads the frame holding `seq`; returns the record's byte range in its payload.
    private func locate(_ seq: UInt64) throws(AuditLogError) -> Range<Int> {
        if loadedFrame < 0 || !contains(loadedFrame, seq) {
            var lo = 0
            var hi = frames.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if frames[mid].firstSeq.rawValue <= seq { lo = mid } else { hi = mid - 1 }
            }
            guard !frames.isEmpty, contains(lo, seq) else {
                throw AuditLogError(.corruption, "no frame holds seq \(seq)", location: .init(file: displayName, seq: SequenceNumber(seq)))
            }
            try load(lo)
        }
        return ranges[Int(seq - frames[loadedFrame].firstSeq.rawValue)]
    }

    private func contains(_ frame: Int, _ seq: UInt64) -> Bool {
        let f = frames[frame]
        return seq >= f.firstSeq.rawValue && seq < f.firstSeq.rawValue + UInt64(f.recordCount)
    }

    private func load(_ frame: Int) throws(AuditLogError) {
        let entry = frames[frame]
        let key = FrameCache.Key(fileName: segment.fileName, offset: entry.offset)
        if let cached = cache?.frame(key), cached.ranges.count == Int(entry.recordCount) {
            shared = cached
            ranges = cached.ranges
            loadedFrame = frame
            return
        }
        func damaged(_ message: String, _ offset: Int64) -> AuditLogError {
            AuditLogError(.corruption, message, location: .init(file: displayName, offset: offset, seq: entry.firstSeq))
        }
        if reader == nil { reader = try SegmentReader(paths: paths, fileName: segment.fileName, limit: segment.dataEnd) }
        guard let reader else { return }
        guard case .frame(let h) = try reader.probe(at: entry.offset), h.firstSeq == entry.firstSeq, h.recordCount == entry.recordCount else {
            throw damaged("the index points at a frame that is not there", entry.offset)
        }
        switch try reader.loadPayload(h, at: entry.offset) {
        case .success(true): break
        case .success(false): throw damaged("frame runs past the end of the segment", entry.offset)
        case .failure(let e): throw damaged(e.message, entry.offset + Int64(e.offset))
        }
        let loaded: [Range<Int>]
        do throws(FormatError) {
            loaded = try reader.recordRanges()
        } catch {
            throw damaged(error.message, entry.offset)
        }
        guard loaded.count == Int(h.recordCount) else { throw damaged("frame holds \(loaded.count) records, header says \(h.recordCount)", entry.offset) }
        ranges = loaded
        shared = nil
        if let cache, let budget, budget.take(DecodedFrame.bytes(payload: reader.rawCount, records: loaded.count)) {
            let decoded = DecodedFrame(payload: Array(reader.rawBuffer.prefix(reader.rawCount)), ranges: loaded)
            cache.insert(decoded, for: key)
            shared = decoded
        }
        loadedFrame = frame
    }
}

/// An ``EventFilter`` compiled against one segment's index: column tests for the indexed
/// fields, the rest left for the decoded record.
struct SegmentPredicate {
    private var verdictMask: UInt8?
    private var cacheHitMask: UInt8?
    private var dims: [(field: Int, codes: Set<UInt32>)] = []
    /// Conditions on fields without a column: checked on the decoded event.
    private(set) var residual = EventFilter()
    /// True when no record of the segment can match.
    private(set) var isImpossible = false

    init(_ filter: EventFilter, view: IndexView) {
        for (field, values) in filter.conditions {
            switch IndexStore.Part.column(forField: field) {
            case .verdicts:
                var mask: UInt8 = 0
                for v in values { if let verdict = Verdict(rawValue: v) { mask |= 1 << verdict.code } }
                verdictMask = (verdictMask ?? 0xFF) & mask
                if mask == 0 { isImpossible = true }
            case .cacheHits:
                var mask: UInt8 = 0
                if values.contains("false") { mask |= 1 << 1 }
                if values.contains("true") { mask |= 1 << 2 }
                cacheHitMask = (cacheHitMask ?? 0xFF) & mask
                if mask == 0 { isImpossible = true }
            case .dimension(let indexed):
                let codes = view.codes(indexed, values)
                if codes.isEmpty { isImpossible = true }
                dims.append((indexed.rawValue, codes))
            default:
                residual.fields[field] = values
            }
        }
    }

    var needsEvent: Bool { !residual.isEmpty }

    @inline(__always)
    func matches(_ c: IndexColumns, _ i: Int) -> Bool {
        if let verdictMask, verdictMask & (1 << c.verdicts[i]) == 0 { return false }
        if let cacheHitMask, cacheHitMask & (1 << c.cacheHits[i]) == 0 { return false }
        for (field, codes) in dims where !codes.contains(c.dims[field][i]) { return false }
        return true
    }
}
