/// A synchronous, single-consumer source of records: ``RecordReader`` and ``QueryIterator``.
package protocol RecordSource: AnyObject {
    /// The next record, or nil at the end.
    func next() throws(AuditLogError) -> Record?
}

extension RecordReader: RecordSource {}
extension QueryIterator: RecordSource {}

/// Records of a synchronous source streamed to an async caller: the source is made and read on
/// ``BlockingIO`` in batches (64 records first, then doubling to 1024), never on the caller's
/// executor. What ``AuditLog/records(_:order:)`` and ``AuditLog/query(_:)`` return, as an
/// opaque `AsyncSequence`.
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
        private var buffer: [Record] = []
        private var position = 0
        private var finished = false

        fileprivate init(reading batches: Batches) { self.batches = batches }

        mutating func next() async throws(AuditLogError) -> Record? {
            try await next(isolation: nil)
        }

        mutating func next(isolation actor: isolated (any Actor)?) async throws(AuditLogError) -> Record? {
            if position == buffer.count {
                guard !finished else { return nil }
                let batches = self.batches
                do throws(AuditLogError) {
                    (buffer, finished) = try await BlockingIO.run { () throws(AuditLogError) in try batches.next() }
                } catch {
                    finished = true
                    buffer = []
                    position = 0
                    throw error
                }
                position = 0
                guard !buffer.isEmpty else { return nil }
            }
            defer { position += 1 }
            return buffer[position]
        }
    }

    /// The source and the next batch size. Sendable because exactly one iterator owns it and
    /// touches it only inside `BlockingIO.run` while that iterator awaits; never two at once.
    fileprivate final class Batches: @unchecked Sendable {
        private let make: @Sendable () throws(AuditLogError) -> any RecordSource
        private var source: (any RecordSource)?
        private var size = 64

        init(_ make: @escaping @Sendable () throws(AuditLogError) -> any RecordSource) { self.make = make }

        /// Up to the next batch size of records, and whether the source is exhausted.
        func next() throws(AuditLogError) -> ([Record], Bool) {
            let source: any RecordSource
            if let existing = self.source {
                source = existing
            } else {
                source = try make()
                self.source = source
            }
            var records: [Record] = []
            records.reserveCapacity(size)
            while records.count < size {
                guard let record = try source.next() else { return (records, true) }
                records.append(record)
            }
            size = Swift.min(size * 2, 1024)
            return (records, false)
        }
    }
}
