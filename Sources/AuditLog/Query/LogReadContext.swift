/// What reading a snapshot of a log needs besides its segment list: its files, its indexes and
/// the cache of decoded frames every query of the log shares.
struct LogReadContext: Sendable {
    let directory: LogDirectory
    let indexes: IndexStore
    let frames: FrameCache
}
