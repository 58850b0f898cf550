/// What reading a snapshot of a log needs besides its segment list: its files, its indexes and
/// the cache of decoded frames every query of the log shares.
struct LogReadContext: Sendable {
    let directory: LogDirectory
    let indexes: IndexStore
    let frames: FrameCache
}

extension EventFilter {
    /// The index columns this filter is tested on (the rest is checked on decoded events).
    var indexColumns: Set<IndexStore.Part> {
        FieldTests(tests: tests).indexColumns
    }
}
