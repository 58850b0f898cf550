/// Fetches single records of one segment by ordinal, each frame read, checked and
/// decompressed at most once while a query walks it. Frames come from the log's
/// ``FrameCache`` when it holds them (the segment file is opened only on a miss); what it
/// loads goes there too as far as the query's ``FrameCache/Budget`` allows (whole scans decode
/// in place past it and leave the cache to the queries that profit from it).
final class RecordFetcher {
    private let directory: LogDirectory
    private let segment: SegmentInfo
    private let frames: [FrameEntry]
    private let cache: FrameCache?
    private let budget: FrameCache.Budget?
    private var walker: SegmentWalker?
    private var loadedFrame = -1
    /// The loaded frame when it came from (or went into) the cache; else it is in `walker`.
    private var shared: DecodedFrame?
    private var ranges: [Range<Int>] = []
    /// Whether a frame was read from the segment file rather than the cache.
    private var readFromFile = false
    /// The ordinals the query expects to read next (``expect(_:)``), ascending.
    private var expected: [Int] = []

    /// `budget` nil: never fill the cache.
    init(_ context: LogReadContext, view: IndexView, budget: FrameCache.Budget?) {
        directory = context.directory
        segment = view.segment
        frames = view.frames
        cache = context.frames
        self.budget = budget
    }

    /// Calls `body` with the loaded frame's payload.
    private func withPayload<T>(_ body: (UnsafeRawBufferPointer) throws(FormatError) -> T) throws(FormatError) -> T {
        if let shared { return try shared.payload.withRawBytes(body) }
        guard let walker else { throw FormatError(.truncated, "no frame loaded", offset: 0) }
        return try walker.withPayload(body)
    }

    private var displayName: String { LogDirectory.displayName(segment.fileName) }

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

    /// Calls `body` with the stored bytes of the record at `ordinal` (stored at `seq`): the
    /// transcoders' way in (JSON and CSV straight from the record).
    func withRecord(at ordinal: Int, seq: SequenceNumber, _ body: (UnsafeRawBufferPointer) throws(FormatError) -> Void) throws(AuditLogError) {
        let range = try locate(segment.firstSeq.rawValue + UInt64(ordinal))
        do throws(FormatError) {
            try withPayload { (raw) throws(FormatError) in
                try body(UnsafeRawBufferPointer(rebasing: raw[range]))
            }
        } catch {
            throw AuditLogError(.corruption, "undecodable record: \(error.message)", location: .init(file: displayName, offset: frames[loadedFrame].offset, seq: seq))
        }
    }

    /// The event time of the record at `ordinal`, read from its header (a query's edge frames,
    /// whose times the index's frame directory cannot tell apart).
    func timestamp(at ordinal: Int) throws(AuditLogError) -> Int64 {
        var timestamp: Int64 = 0
        try withRecord(at: ordinal, seq: SequenceNumber(segment.firstSeq.rawValue + UInt64(ordinal))) { (bytes) throws(FormatError) in
            var r = ByteReader(bytes)
            timestamp = try AuditEvent.readHeader(&r).timestamp
        }
        return timestamp
    }

    /// The stored bytes of the record at `ordinal`.
    func recordBytes(at ordinal: Int) throws(AuditLogError) -> [UInt8] {
        let range = try locate(segment.firstSeq.rawValue + UInt64(ordinal))
        do throws(FormatError) {
            return try withPayload { (raw) throws(FormatError) in Array(UnsafeRawBufferPointer(rebasing: raw[range])) }
        } catch {
            throw AuditLogError(.corruption, "unreadable record: \(error.message)", location: .init(file: displayName, offset: frames[loadedFrame].offset))
        }
    }

    /// Loads the frame holding `seq`; returns the record's byte range in its payload.
    private func locate(_ seq: UInt64) throws(AuditLogError) -> Range<Int> {
        if loadedFrame < 0 || !contains(loadedFrame, seq) {
            guard let frame = frame(holding: seq) else {
                throw AuditLogError(.corruption, "no frame holds seq \(seq)", location: .init(file: displayName, seq: SequenceNumber(seq)))
            }
            try load(frame, for: Int(seq - segment.firstSeq.rawValue))
        }
        let index = Int(seq - frames[loadedFrame].firstSeq.rawValue)
        if ranges[index].isEmpty {
            // A sparse read left this record out (no record is empty): the frame again, whole.
            try load(loadedFrame, for: nil)
        }
        return ranges[index]
    }

    /// Tells the fetcher which ordinals the query will read next (its coming candidates): a
    /// column frame not yet cached is then rebuilt only for those of them it holds, when they
    /// are few (``SegmentWalker/Payload/sparse(_:)``). Without it, or for a frame read a second
    /// time, frames are decoded whole (and cached as the budget allows).
    func expect(_ ordinals: some Sequence<Int>) {
        expected = ordinals.sorted()
    }

    /// The ordinals of `frame` the query expects, with `ordinal` among them, ascending; nil as
    /// soon as they are more than `limit` (a dense read, an export's, builds no list).
    private func expectedOrdinals(in frame: Int, with ordinal: Int, atMost limit: Int) -> [Int]? {
        let first = Int(frames[frame].firstSeq.rawValue - segment.firstSeq.rawValue)
        let end = first + Int(frames[frame].recordCount)
        var lo = expected.lowerBound(of: first)
        var wanted: [Int] = []
        while lo < expected.count, expected[lo] < end {
            let o = expected[lo] - first
            if wanted.last != o {
                guard wanted.count < limit else { return nil }
                wanted.append(o)
            }
            lo += 1
        }
        let own = ordinal - first
        let at = wanted.lowerBound(of: own)
        if at == wanted.count || wanted[at] != own {
            guard wanted.count < limit else { return nil }
            wanted.insert(own, at: at)
        }
        return wanted
    }

    /// The index of the frame holding `seq`, by binary search of the frame directory.
    private func frame(holding seq: UInt64) -> Int? {
        var lo = 0
        var hi = frames.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if frames[mid].firstSeq.rawValue <= seq { lo = mid } else { hi = mid - 1 }
        }
        return !frames.isEmpty && contains(lo, seq) ? lo : nil
    }

    /// Fewer frames than this are read as the query reaches them: a hint costs a system call,
    /// worth it where many reads can overlap.
    static let prefetchMinimumFrames = 4

    /// Asks the disk at once for the frames that hold `ordinals` (the query's coming candidates)
    /// and that neither this fetcher nor the cache holds, when they are several: a cold read
    /// of many scattered frames then overlaps their reads instead of waiting for each in turn
    /// (400 reads of 16 KiB: 24 ms one after another, 7 ms hinted first, on this project's test
    /// machine). Only a hint; the reads themselves are unchanged.
    func prefetch(_ ordinals: ArraySlice<Int>) throws(AuditLogError) {
        // Until a frame had to be read from the file, the cache serves this query: no hints.
        guard readFromFile else { return }
        var wanted: [Int] = []
        var previous = -1
        for ordinal in ordinals {
            // The ordinals run one way, so a frame's records come together.
            guard let f = frame(holding: segment.firstSeq.rawValue + UInt64(ordinal)), f != previous else { continue }
            previous = f
            if f != loadedFrame && cache?.contains(FrameCache.Key(segment: segment.firstSeq, offset: frames[f].offset)) != true { wanted.append(f) }
        }
        guard wanted.count >= Self.prefetchMinimumFrames else { return }
        if walker == nil { walker = try SegmentWalker(directory, segment.fileName, limit: segment.dataEnd) }
        guard let file = walker?.file else { return }
        wanted.sort()
        // Adjacent frames are one range.
        var i = 0
        while i < wanted.count {
            var j = i
            while j + 1 < wanted.count && wanted[j + 1] == wanted[j] + 1 { j += 1 }
            let end = wanted[j] + 1 < frames.count ? frames[wanted[j] + 1].offset : segment.dataEnd
            file.willNeed(frames[wanted[i]].offset..<end)
            i = j + 1
        }
    }

    /// Whether the cache would keep `entry` read whole: it keeps frames of its size at all
    /// (a frame's records reach about ``FrameBuilder/targetRawBytes``), and the query's budget
    /// has room for it.
    private func wouldKeep(_ entry: FrameEntry) -> Bool {
        guard let cache, let budget else { return false }
        let whole = DecodedFrame.bytes(payload: FrameBuilder.targetRawBytes, records: Int(entry.recordCount))
        return cache.keeps(bytes: whole) && budget.remainingBytes >= whole
    }

    private func contains(_ frame: Int, _ seq: UInt64) -> Bool {
        let f = frames[frame]
        return seq >= f.firstSeq.rawValue && seq < f.firstSeq.rawValue + UInt64(f.recordCount)
    }

    /// Loads `frame`: from the cache, else from the file — when `ordinal` (the one asked for)
    /// is given, the query expects few of the frame's records, and the cache has not seen it
    /// read in part before or the query's budget could not keep it, only those records of a
    /// column frame and of a row frame a prefix (or the whole), not cached; else whole, and
    /// cached as the budget allows.
    private func load(_ frame: Int, for ordinal: Int?) throws(AuditLogError) {
        let entry = frames[frame]
        let key = FrameCache.Key(segment: segment.firstSeq, offset: entry.offset)
        if let cached = cache?.frame(key), cached.ranges.count == Int(entry.recordCount) {
            shared = cached
            ranges = cached.ranges
            loadedFrame = frame
            return
        }
        if walker == nil { walker = try SegmentWalker(directory, segment.fileName, limit: segment.dataEnd) }
        guard let walker else { return }
        readFromFile = true
        var payload = SegmentWalker.Payload.decompress
        var readInPart = false
        // Read whole only what the cache would keep: a frame read in part before, while the
        // query's budget has room for it.
        if let ordinal, !expected.isEmpty,
            let wanted = expectedOrdinals(in: frame, with: ordinal, atMost: SegmentWalker.Payload.mostReadInPart(of: entry.recordCount)),
            !wouldKeep(entry) || cache?.firstPartialRead(key) ?? true
        {
            readInPart = true
            // A column frame rebuilds only these records, a row frame decompresses a prefix
            // (or whole: ``SegmentWalker/Payload/applied(to:)``).
            payload = .sparse(wanted)
        }
        // The frame ends where the next begins (or the segment's data): one read, not two.
        let end = frame + 1 < frames.count ? frames[frame + 1].offset : segment.dataEnd
        _ = try walker.frame(at: entry.offset, firstSeq: entry.firstSeq, count: entry.recordCount, payload: payload, length: end - entry.offset)
        ranges = walker.records
        shared = nil
        loadedFrame = frame
        // A frame read in part is not cached: it holds only the records asked for (a column
        // frame's, or a row frame's prefix) or, a row frame decompressed whole, stays in the
        // walker's buffer, which the next frame reuses — a cold open's first page touches one
        // frame's memory, not ten (each a new allocation the cache kept), and one-off reads
        // leave the cache alone.
        if readInPart { return }
        let size = walker.withPayload { $0.count }
        if let cache, let budget, budget.take(DecodedFrame.bytes(payload: size, records: ranges.count)) {
            let decoded = DecodedFrame(payload: walker.takePayload(), ranges: ranges)
            cache.insert(decoded, for: key)
            shared = decoded
        }
    }
}
