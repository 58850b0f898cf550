/// Records handed from the I/O thread to the caller's task in one batch and taken out one at a
/// time by moving, not copying: a record taken from an array is a copy (a retain of each of its
/// heap-allocated strings, which the array's release undoes), and a query hands out every
/// record it reads this way.
///
/// `@unchecked Sendable`: a batch is filled on the I/O thread and then belongs to the one
/// iterator it was handed to; no two threads ever touch it at once.
final class RecordBatch: @unchecked Sendable {
    private var base: UnsafeMutablePointer<Record>
    private var capacity: Int
    /// Records appended.
    private(set) var count = 0
    /// Records taken (moved out); those from here to `count` are still held.
    private var taken = 0

    init(capacity: Int) {
        self.capacity = Swift.max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        (base + taken).deinitialize(count: count - taken)
        base.deallocate()
    }

    /// Appends `record` (moved in), growing the storage when full.
    func append(_ record: consuming Record) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Record>.allocate(capacity: capacity * 2)
            (grown + taken).moveInitialize(from: base + taken, count: count - taken)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        (base + count).initialize(to: record)
        count += 1
    }

    /// Moves the next record out, or nil when every one was taken.
    func take() -> Record? {
        guard taken < count else { return nil }
        defer { taken += 1 }
        return (base + taken).move()
    }
}
