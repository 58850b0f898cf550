/// How a log is opened. The defaults suit a gateway: create if missing, sync every batch with
/// group commit, day partitions, 64 MiB segments.
public struct AuditLogOptions: Sendable, Hashable {
    /// When appended records reach stable storage.
    ///
    /// With `syncInterval` and `none`, the `append` that finds the writer idle writes the group
    /// of pending batches itself, on its task's thread (no hand-over to the writer's thread and
    /// back); at a segment's seal that includes its `fdatasync`s. So that those find little
    /// left to write, every MiB written is handed to write-back as it is written (Linux's
    /// `sync_file_range`, which starts the writes and waits for none). With `syncEveryBatch`
    /// the writer's own thread writes and syncs while the appenders wait.
    public enum Durability: Sendable, Hashable {
        /// `append` returns after an `fdatasync` covering its records. Concurrent appenders
        /// share one write and one sync (group commit). A crash loses nothing acknowledged.
        case syncEveryBatch
        /// `append` returns once the records are written to the OS; a background timer syncs
        /// every `milliseconds`. A crash (of the machine, not the process) may lose up to that
        /// long of acknowledged appends.
        case syncInterval(milliseconds: Int)
        /// The OS decides when to write back. A machine crash may lose any unsynced appends;
        /// sealing a segment and closing the log still sync.
        case none
    }

    /// Whether this handle may write.
    public enum Access: Sendable, Hashable {
        /// Takes the log's write lock (one writer process at a time) and repairs a torn tail.
        case readWrite
        /// No lock, no repair: reads a consistent prefix while another process writes.
        case readOnly
    }

    /// The length of the time partitions segments are cut at (event time, UTC).
    public enum Partition: Sendable, Hashable, CaseIterable {
        case hour
        case day

        var nanos: Int64 {
            switch self {
            case .hour: 3_600_000_000_000
            case .day: 86_400_000_000_000
            }
        }
    }

    /// How the writer stores the records of a frame (docs/FORMAT.md, "Column frames").
    public enum FrameEncoding: String, Sendable, Hashable, CaseIterable {
        /// Each frame's records as they are, LZ4-compressed (codec 1): the fastest to write
        /// and to read whole, and what every reader of segment version 1 reads.
        case rows
        /// Each frame's records split into columns (times, ids, each field) before LZ4
        /// (codec 2), in segments of version 2: about 40 % fewer segment bytes for gateway
        /// traffic, paid for with slower appends and whole-frame reads (verify, export; see
        /// docs/PERFORMANCE.md). Segments already written keep their encoding.
        case columns
    }

    /// When appends are synced; see ``Durability``.
    public var durability: Durability = .syncEveryBatch
    /// Read-write (one writer process) or read-only.
    public var access: Access = .readWrite
    /// Create the log when the directory holds none (read-write only).
    public var createIfMissing = true
    /// Partition length for a new log; an existing log keeps the one it was created with.
    public var partition: Partition = .day
    /// How new segments store their frames; see ``FrameEncoding``. Nil (the default): as the
    /// log's newest segment, so a log written with columns goes on with them (rows for a new
    /// log). Applies to the segments this handle starts; an active segment of version 1 goes on
    /// with rows.
    public var frameEncoding: FrameEncoding?
    /// A segment is sealed once its file reaches this size.
    public var segmentSizeLimitBytes: Int64 = 64 << 20
    /// Most events accepted in one `append` call.
    public var maxBatchEvents = 100_000
    /// Bytes of index data kept in memory once loaded (least recently used evicted first, to be
    /// read again from the index file when next needed), so that the next query over the same
    /// segments does not decode it again: the columns and id tables queries load, and the
    /// rollup rows of sealed segments (a writer keeps those of each segment it seals). A
    /// record's columns take about 50 bytes: a week of a gateway logging 10 million events a
    /// month is ~120 MB. The default is a sixteenth of physical memory, at least 96 MiB and at
    /// most 1 GiB.
    public var indexCacheBytes = AuditLogOptions.defaultIndexCacheBytes

    /// The default ``indexCacheBytes``.
    public static let defaultIndexCacheBytes = min(1 << 30, max(96 << 20, physicalMemoryBytes() / 16))
    /// Bytes of decompressed frames kept in memory (least recently used evicted first), so that
    /// queries reading the same records again — a dashboard going through users, the newest
    /// events, one event by id — do not read, check and decompress their frames again. A frame
    /// read for a few of its records is kept only once it is read again, and a query without a
    /// limit (an export) may fill at most a quarter of it. A day of a gateway logging 10 million
    /// events a month takes about 70 MB. 0 keeps none. The default is a thirty-second of
    /// physical memory, at least 32 MiB and at most 512 MiB.
    public var frameCacheBytes = AuditLogOptions.defaultFrameCacheBytes

    /// The default ``frameCacheBytes``.
    public static let defaultFrameCacheBytes = min(512 << 20, max(32 << 20, physicalMemoryBytes() / 32))
    /// Sign checkpoints of the Merkle tree on an interval while open for writing (nil: only
    /// when asked). See ``CheckpointSigning``.
    public var checkpointSigning: CheckpointSigning?
    /// Archive sealed segments to S3-compatible object storage and read archived ones back
    /// (docs/ARCHIVE.md). Nil: the archive the directory remembers, if any.
    public var archive: ArchiveOptions?
    /// Whether the writer keeps the Merkle tree. Off only to measure what the tree costs
    /// (Benchmarks/EvidenceBench); a log opened without it recomputes the missing nodes at
    /// the next open with it.
    @_spi(Testing) public var keepsMerkleTree = true

    /// The defaults.
    public init() {}

    /// Read-only access to an existing log.
    public static var readOnly: AuditLogOptions {
        var o = AuditLogOptions()
        o.access = .readOnly
        o.createIfMissing = false
        return o
    }
}

/// What an append committed.
public struct AppendReceipt: Sendable, Hashable {
    /// Seq of the first event of the batch.
    public var firstSeq: SequenceNumber
    /// Seq of the last event of the batch.
    public var lastSeq: SequenceNumber
    /// The events' ids in order (assigned ones included).
    public var ids: [String]
    /// The chain value after the last event.
    public var chainHead: ChainHash

    /// Number of events.
    package var count: Int { ids.count }
}
