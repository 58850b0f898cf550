/// An export's bytes a chunk at a time, transcoded on every core: the query's segments are cut
/// into runs of records, up to `parallelism` runs are transcoded at once (each on
/// ``BlockingIO``, by its own ``QueryIterator``), and the chunks come out in the query's order.
/// The concatenated chunks are exactly the bytes ``ExportEncoder`` writes for the same query.
///
/// ```swift
/// for try await chunk in log.exportChunks(query, format: .ndjson) {
///     try write(chunk.bytes)
/// }
/// ```
///
/// A query with a limit or a cursor is one run: it is not cut up. At most `parallelism + 1`
/// runs are in flight besides the chunk the caller holds, each the transcoding of at most 4,096
/// records or about 512 KiB of stored segment (~2.3 MB of NDJSON for gateway events), so memory
/// stays bounded whatever the log's size. A run whose task is cancelled before it starts (the
/// iterator dropped early, or an error) is still transcoded, its chunk unread.
package struct ExportChunks: AsyncSequence, Sendable {
    package typealias Element = Chunk
    package typealias Failure = AuditLogError

    /// Consecutive bytes of the export.
    package struct Chunk: Sendable {
        /// The bytes (the first chunk starts with the format's opening, the last ends with its
        /// closing).
        package var bytes: [UInt8]
        /// Events the bytes hold.
        package var events: Int
    }

    /// Records of one segment that one task transcodes (all segments when `seqs` is nil).
    struct Run: Sendable {
        var segments: [SegmentInfo]
        var seqs: ClosedRange<UInt64>?
    }

    /// Stored segment bytes a run covers, about (a run holds 64 to ``maxRunRecords`` records).
    static let runStoredBytes: Int64 = 512 << 10
    static let maxRunRecords: UInt64 = 4_096

    let context: LogReadContext
    let query: Query
    let format: ExportFormat
    let runs: [Run]
    let parallelism: Int
    /// What the export's runs together may place in the frame cache: what one query may.
    let cacheBudget: FrameCache.Budget

    init(context: LogReadContext, segments: [SegmentInfo], query: Query, format: ExportFormat, parallelism: Int, runRecords: UInt64? = nil) {
        self.context = context
        self.query = query
        self.format = format
        self.parallelism = Swift.max(1, parallelism)
        runs = Self.runs(segments, query: query, runRecords: runRecords)
        cacheBudget = context.frames.budget(for: query)
    }

    /// The query's segments cut into runs in its order: one run when it has a limit or cursor.
    static func runs(_ segments: [SegmentInfo], query: Query, runRecords: UInt64?) -> [Run] {
        guard query.limit == nil, query.cursor == nil else { return [Run(segments: segments, seqs: nil)] }
        var runs: [Run] = []
        for segment in QueryIterator.segments(segments, overlapping: query.window) {
            let perRecord = Swift.max(1, segment.bytes / Int64(segment.recordCount))
            let size = runRecords ?? Swift.min(maxRunRecords, UInt64(Swift.max(64, runStoredBytes / perRecord)))
            var first = segment.firstSeq.rawValue
            let end = first + segment.recordCount
            while first < end {
                let last = Swift.min(end, first + size) - 1
                runs.append(Run(segments: [segment], seqs: first...last))
                first = last + 1
            }
        }
        return query.order == .oldestFirst ? runs : runs.reversed()
    }

    package func makeAsyncIterator() -> Iterator { Iterator(self) }

    /// Transcodes one run: its events in the format's body encoding (JSON events each after a
    /// `,`), without the opening and closing bytes.
    static func transcode(_ run: Run, context: LogReadContext, query: Query, format: ExportFormat, budget: FrameCache.Budget) throws(AuditLogError) -> Chunk {
        let iterator = try QueryIterator(context, segments: run.segments, query: query, seqs: run.seqs, budget: budget)
        var encoder = ExportEncoder(format: format, framed: false)
        var bytes: [UInt8] = []
        // ~600 bytes an event as NDJSON for gateway events: room for a whole run, so that the
        // buffer is not copied while it grows (a run with no seqs is a page: it starts small).
        bytes.reserveCapacity(run.seqs.map { Int($0.count) * 768 } ?? 1 << 16)
        while try encoder.encodeNext(from: iterator, into: &bytes) {}
        return Chunk(bytes: bytes, events: encoder.count)
    }

    package struct Iterator: AsyncIteratorProtocol {
        package typealias Element = Chunk
        package typealias Failure = AuditLogError

        private let export: ExportChunks
        private let inFlight = InFlight()
        private var launched = 0
        private var events = 0
        private var opened = false
        private var finished = false

        init(_ export: ExportChunks) { self.export = export }

        package mutating func next() async throws(AuditLogError) -> Chunk? {
            try await next(isolation: nil)
        }

        package mutating func next(isolation actor: isolated (any Actor)?) async throws(AuditLogError) -> Chunk? {
            guard !finished else { return nil }
            // Keep every core busy while the caller writes the chunk it gets.
            while launched < export.runs.count && inFlight.tasks.count <= export.parallelism {
                let (run, context, query, format, budget) = (export.runs[launched], export.context, export.query, export.format, export.cacheBudget)
                inFlight.tasks.append(
                    Task {
                        await BlockingIO.run {
                            Result { () throws(AuditLogError) in try ExportChunks.transcode(run, context: context, query: query, format: format, budget: budget) }
                        }
                    })
                launched += 1
            }
            var chunk = Chunk(bytes: [], events: 0)
            if !inFlight.tasks.isEmpty {
                let task = inFlight.tasks.removeFirst()
                switch await task.value {
                case .success(let c): chunk = c
                case .failure(let error):
                    finished = true
                    inFlight.cancelAll()
                    throw error
                }
            }
            if export.format == .json && chunk.events > 0 && events == 0 {
                chunk.bytes.removeFirst()  // the first event's `,`
            }
            events += chunk.events
            if !opened {
                opened = true
                chunk.bytes.insert(contentsOf: ExportEncoder.opening(export.format), at: 0)
            }
            if inFlight.tasks.isEmpty && launched == export.runs.count {
                finished = true
                chunk.bytes += ExportEncoder.closing(export.format, count: events)
            }
            return chunk
        }
    }

    /// The tasks transcoding the next runs, in order; cancelled when the iterator goes away
    /// (a run already started finishes, its chunk unread).
    private final class InFlight {
        var tasks: [Task<Result<Chunk, AuditLogError>, Never>] = []

        func cancelAll() {
            for task in tasks { task.cancel() }
            tasks.removeAll()
        }

        deinit { cancelAll() }
    }
}

extension AuditLog {
    /// The export of `query`'s results in `format`, a chunk at a time, transcoded on
    /// `parallelism` cores (default: all): what `auditlog export` writes.
    package func exportChunks(_ query: Query, format: ExportFormat, parallelism: Int? = nil) -> ExportChunks {
        LibraryMetrics.query()
        return ExportChunks(context: context, segments: snapshot.segments, query: query, format: format, parallelism: parallelism ?? activeProcessorCount())
    }
}
