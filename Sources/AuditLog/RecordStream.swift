/// A synchronous, single-consumer source of records: ``RecordReader`` and ``QueryIterator``.
package protocol RecordSource: AnyObject {
    /// The next record, or nil at the end.
    func next() throws(AuditLogError) -> Record?
}

extension RecordReader: RecordSource {}
extension QueryIterator: RecordSource {}

/// Records of a synchronous source streamed to an async caller: the source is made and read on
/// ``BlockingIO`` in batches, never on the caller's executor. What ``AuditLog/records(_:order:)``
/// and ``AuditLog/query(_:)`` return, as an opaque `AsyncSequence`.
///
/// A batch holds at least 64 records (then 128, doubling up to 1,024) and goes on past that
/// while it has taken less than ``Batches/quickBatch``: each batch costs a hand-over to the
/// I/O thread and back (two thread wake-ups), which a query of a few hundred warm records paid
/// twice or more (one user's day of the comparison's 1M events: a third of its futex samples
/// went with the second), while a slow one (cold disk, sparse matches) still hands out its
/// first records early and a caller that stops early wastes at most that long.
struct RecordStream: AsyncSequence, Sendable {
    typealias Element = Record
    typealias Failure = AuditLogError

    /// Makes the source (on the I/O executor: making a query loads index columns).
    let make: @Sendable () throws(AuditLogError) -> any RecordSource

    func makeAsyncIterator() -> Iterator { Iterator(reading: Batches(make)) }

    struct Iterator: AsyncIteratorProtocol {
        typealias Element = Record
        typealias Failure = AuditLogError

        private let batches: Batches
        private var buffer: RecordBatch?
        private var finished = false

        fileprivate init(reading batches: Batches) { self.batches = batches }

        mutating func next() async throws(AuditLogError) -> Record? {
            try await next(isolation: nil)
        }

        mutating func next(isolation actor: isolated (any Actor)?) async throws(AuditLogError) -> Record? {
            if let record = buffer?.take() { return record }
            guard !finished else { return nil }
            let batches = self.batches
            do throws(AuditLogError) {
                let batch: RecordBatch
                (batch, finished) = try await BlockingIO.run { () throws(AuditLogError) in try batches.next() }
                buffer = batch
            } catch {
                finished = true
                buffer = nil
                throw error
            }
            return buffer?.take()
        }
    }

    /// The source and the next batch size. Sendable because exactly one iterator owns it and
    /// touches it only inside `BlockingIO.run` while that iterator awaits; never two at once.
    final class Batches: @unchecked Sendable {
        private let make: @Sendable () throws(AuditLogError) -> any RecordSource
        private var source: (any RecordSource)?
        private var size = 64
        private let quickBatch: Duration

        /// The most records a batch holds.
        static let largestBatch = 1024
        /// A batch that reached its size this soon goes on filling, up to ``largestBatch``.
        static let quickBatch = Duration.milliseconds(1)

        /// `quickBatch`: other than ``quickBatch`` only in tests.
        init(_ make: @escaping @Sendable () throws(AuditLogError) -> any RecordSource, quickBatch: Duration = Batches.quickBatch) {
            self.make = make
            self.quickBatch = quickBatch
        }

        /// The next batch size of records (more while they come quickly; fewer at the end), and
        /// whether the source is exhausted.
        func next() throws(AuditLogError) -> (RecordBatch, Bool) {
            let start = ContinuousClock.now
            let source: any RecordSource
            if let existing = self.source {
                source = existing
            } else {
                source = try make()
                self.source = source
            }
            let records = RecordBatch(capacity: size)
            var limit = size
            while records.count < limit {
                guard let record = try source.next() else { return (records, true) }
                records.append(record)
                // At the size and every 16 records past it: quick so far, so go on.
                if records.count == limit, limit < Self.largestBatch, ContinuousClock.now - start < quickBatch {
                    limit = Swift.min(limit + 16, Self.largestBatch)
                }
            }
            size = Swift.min(size * 2, Self.largestBatch)
            return (records, false)
        }
    }
}
