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
/// recently used out first.
///
/// A frame is cached only after its checksum passed, and a complete frame never changes: the
/// writer only appends, recovery cuts only a torn (unverifiable) last frame, and segment names
/// (their first seq) are never reused after a sweep deletes a file.
final class FrameCache: Sendable {
    struct Key: Hashable, Sendable {
        var fileName: String
        var offset: Int64
    }

    private struct Entry: Sendable {
        var frame: DecodedFrame
        var lastUse: UInt64
    }

    private struct State: Sendable {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
        /// Frames read in part (``firstPartialRead(_:)``), forgotten all at once when many.
        var readInPart: Set<Key> = []
    }

    /// How many frames read in part the cache remembers.
    static let partialReadMemory = 4096

    /// How much one query may place in the cache: unlimited for bounded reads (a page, a point
    /// lookup), a quarter of the cache for an unbounded one, so that a selective query (one
    /// user's day) is cached whole while an export passing through evicts at most that much.
    final class Budget {
        private(set) var remainingBytes: Int

        init(bytes: Int) { remainingBytes = bytes }

        /// Takes `bytes` from the budget if it has them.
        func take(_ bytes: Int) -> Bool {
            guard bytes <= remainingBytes else { return false }
            remainingBytes -= bytes
            return true
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

    init(capacityBytes: Int) {
        capacity = capacityBytes
    }

    /// Whether the cache holds the frame (without counting as a use).
    func contains(_ key: Key) -> Bool {
        state.withLock { $0.entries[key] != nil }
    }

    func frame(_ key: Key) -> DecodedFrame? {
        state.withLock { s in
            guard var entry = s.entries[key] else {
                LibraryMetrics.frameCache(hit: false)
                return nil
            }
            LibraryMetrics.frameCache(hit: true)
            s.clock += 1
            entry.lastUse = s.clock
            s.entries[key] = entry
            return entry.frame
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

    func insert(_ frame: DecodedFrame, for key: Key) {
        guard frame.bytes <= capacity / 4 else { return }
        state.withLock { s in
            s.clock += 1
            if let old = s.entries.updateValue(Entry(frame: frame, lastUse: s.clock), forKey: key) {
                s.bytes -= old.frame.bytes
            }
            s.bytes += frame.bytes
            while s.bytes > capacity, let victim = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.entries.removeValue(forKey: victim.key)
                s.bytes -= victim.value.frame.bytes
            }
        }
    }
}
