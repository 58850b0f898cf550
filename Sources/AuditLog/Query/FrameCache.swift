import Synchronization

/// The decompressed, checksum-verified payload of one frame and its records' byte ranges.
/// Immutable, so shared freely between queries.
final class DecodedFrame: Sendable {
    let payload: [UInt8]
    let ranges: [Range<Int>]

    init(payload: [UInt8], ranges: [Range<Int>]) {
        self.payload = payload
        self.ranges = ranges
    }

    var bytes: Int { Self.bytes(payload: payload.count, records: ranges.count) }

    /// What a frame of this size takes in the cache.
    static func bytes(payload: Int, records: Int) -> Int { payload + records * 16 + 64 }
}

/// Recently read frames, so that the queries a dashboard repeats (the newest events, one event
/// by id) do not read, check and decompress the same frames again. Bounded in bytes, least
/// recently used out first: a lookup, an insert and an eviction each cost one hash-table
/// operation and a few links (the entries are a doubly linked list in slots, most recent at
/// the head), whatever the number of frames held.
///
/// A frame is cached only after its checksum passed, and a complete frame never changes: the
/// writer only appends, recovery cuts only a torn (unverifiable) last frame, and segment names
/// (their first seq) are never reused after a sweep deletes a file.
final class FrameCache: Sendable {
    /// A frame: its segment (by first seq, which names the segment's file: the catalog checks
    /// that name and header agree) and its offset in the file.
    struct Key: Hashable, Sendable {
        var segment: UInt64
        var offset: Int64

        init(segment: SequenceNumber, offset: Int64) {
            self.segment = segment.rawValue
            self.offset = offset
        }
    }

    /// One cached frame and its neighbours in recency (slot numbers, -1 for none).
    private struct Slot: Sendable {
        var key: Key
        var frame: DecodedFrame?
        var newer: Int
        var older: Int
    }

    private struct State: Sendable {
        var index: [Key: Int] = [:]
        var entries: [Slot] = []
        var free: [Int] = []
        /// The most and least recently used slots (-1 when empty).
        var newest = -1
        var oldest = -1
        var bytes = 0
        /// Frames read in part (``firstPartialRead(_:)``), forgotten all at once when many.
        var readInPart: Set<Key> = []

        mutating func unlink(_ i: Int) {
            let (newer, older) = (entries[i].newer, entries[i].older)
            if newer >= 0 { entries[newer].older = older } else { newest = older }
            if older >= 0 { entries[older].newer = newer } else { oldest = newer }
        }

        mutating func linkNewest(_ i: Int) {
            entries[i].newer = -1
            entries[i].older = newest
            if newest >= 0 { entries[newest].newer = i } else { oldest = i }
            newest = i
        }

        /// Marks slot `i` the most recently used.
        mutating func use(_ i: Int) {
            guard newest != i else { return }
            unlink(i)
            linkNewest(i)
        }

        /// Drops the least recently used frame.
        mutating func evictOldest() {
            let i = oldest
            guard i >= 0 else { return }
            unlink(i)
            index.removeValue(forKey: entries[i].key)
            bytes -= entries[i].frame?.bytes ?? 0
            entries[i].frame = nil
            free.append(i)
        }
    }

    /// How many frames read in part the cache remembers.
    static let partialReadMemory = 4096

    /// How much one query may place in the cache: unlimited for bounded reads (a page, a point
    /// lookup), a quarter of the cache for an unbounded one, so that a selective query (one
    /// user's day) is cached whole while an export passing through evicts at most that much.
    /// Shared by the runs of one export, which take from it on several threads.
    final class Budget: Sendable {
        private let remaining: Atomic<Int>

        init(bytes: Int) { remaining = Atomic(bytes) }

        /// What is left to take.
        var remainingBytes: Int { remaining.load(ordering: .relaxed) }

        /// Takes `bytes` from the budget if it has them.
        func take(_ bytes: Int) -> Bool {
            var left = remaining.load(ordering: .relaxed)
            while bytes <= left {
                let (exchanged, now) = remaining.compareExchange(expected: left, desired: left - bytes, ordering: .relaxed)
                if exchanged { return true }
                left = now
            }
            return false
        }
    }

    let capacity: Int
    private let state = Locked(State())

    /// Bytes held now.
    var bytes: Int { state.withLock { $0.bytes } }

    /// A budget for a query: bounded (`limit` given) or not.
    func budget(bounded: Bool) -> Budget {
        Budget(bytes: bounded ? Int.max : capacity / 4)
    }

    /// The budget of `query` (of all the runs of its export together).
    func budget(for query: Query) -> Budget { budget(bounded: query.limit != nil) }

    /// Whether a frame of `bytes` decoded is small enough to be cached: a quarter of the
    /// capacity at most.
    func keeps(bytes: Int) -> Bool { bytes <= capacity / 4 }

    init(capacityBytes: Int) {
        capacity = capacityBytes
    }

    /// Whether the cache holds the frame (without counting as a use).
    func contains(_ key: Key) -> Bool {
        state.withLock { $0.index[key] != nil }
    }

    /// The frame at `key`, now the most recently used, or nil.
    func frame(_ key: Key) -> DecodedFrame? {
        state.withLock { s in
            guard let i = s.index[key], let frame = s.entries[i].frame else {
                LibraryMetrics.frameCache(hit: false)
                return nil
            }
            LibraryMetrics.frameCache(hit: true)
            s.use(i)
            return frame
        }
    }

    /// Whether a sparse read of the frame at `key` may rebuild only the records it needs: yes
    /// the first time (remembered), no when it was read in part before — read whole then, and
    /// cached, since it is being read again. One-off reads (one event by id, the newest few of
    /// a kind) so cost a few records, not a frame, and leave the cache to frames in use.
    func firstPartialRead(_ key: Key) -> Bool {
        state.withLock { s in
            if s.readInPart.count >= Self.partialReadMemory { s.readInPart.removeAll(keepingCapacity: true) }
            return s.readInPart.insert(key).inserted
        }
    }

    /// Caches `frame` as the most recently used (replacing what `key` held), then drops the
    /// least recently used frames while the cache holds more than its capacity. A frame larger
    /// than a quarter of the capacity is not cached.
    func insert(_ frame: DecodedFrame, for key: Key) {
        guard keeps(bytes: frame.bytes) else { return }
        state.withLock { s in
            if let i = s.index[key] {
                s.bytes += frame.bytes - (s.entries[i].frame?.bytes ?? 0)
                s.entries[i].frame = frame
                s.use(i)
            } else {
                let slot = Slot(key: key, frame: frame, newer: -1, older: -1)
                let i: Int
                if let reused = s.free.popLast() {
                    i = reused
                    s.entries[i] = slot
                } else {
                    i = s.entries.count
                    s.entries.append(slot)
                }
                s.index[key] = i
                s.linkNewest(i)
                s.bytes += frame.bytes
            }
            while s.bytes > capacity, s.oldest != s.newest { s.evictOldest() }
        }
    }
}
