extension IndexStore {
    /// A sealed segment's index as the store caches it: its frame directory and dictionaries for
    /// as long as the entry lives, and the parts queries loaded (columns, id table, rollup rows)
    /// within the cache's byte budget, least recently used dropped first and read again from the
    /// index file when next needed.
    struct Sealed: Sendable {
        var data: IndexData
        var loaded: Set<Part>
        var lastUse: UInt64
        /// False when rebuilt in memory: then nothing is evicted (there is no file to reload).
        var fromFile = true

        /// Column blocks a page loaded and gave back (``IndexStore/keep(_:of:)``), for the next page.
        var blocks: ColumnBlocks.Kept?

        /// Whether it holds columns.
        var holdsColumns: Bool { loaded.contains { $0.isColumn } || blocks != nil }

        /// Whether it holds what the budget counts and may evict, loaded from its file.
        var holdsEvictable: Bool { fromFile && (blocks != nil || loaded.contains { $0.isEvictable }) }

        /// About the memory its columns (blocks counted at their columns' full length), id table
        /// and rollup rows take.
        var cachedBytes: Int {
            data.columns.memoryBytes + (blocks?.columns.memoryBytes ?? 0) + 8 * data.idHashes.count + Self.rollupRowBytes * (data.rollups?.count ?? 0)
        }

        /// About the memory a rollup row takes in a table: its key and sums, the table's share,
        /// and its latency sketch (a dozen buckets for a typical row).
        static let rollupRowBytes = 320

        /// Drops what ``holdsEvictable`` counts.
        mutating func evict() {
            data.columns = IndexColumns()
            data.idHashes = []
            data.idOrdinals = []
            data.rollups = nil
            blocks = nil
            loaded = loaded.filter { !$0.isEvictable }
        }

        /// Keeps the columns, id tables and rollup rows of the most recently used `entries` within
        /// `budget` bytes (the one used last whatever its size): without it a writer left running
        /// would keep every sealed segment's rollups for as long as it runs.
        static func evict(_ entries: inout [String: Sealed], budget: Int) {
            var bytes = 0
            for entry in entries.values where entry.holdsEvictable { bytes += entry.cachedBytes }
            guard bytes > budget else { return }
            let held = entries.compactMap { name, entry in entry.holdsEvictable ? (name: name, lastUse: entry.lastUse, bytes: entry.cachedBytes) : nil }
            for entry in held.sorted(by: { $0.lastUse < $1.lastUse }).dropLast() where bytes > budget {
                entries[entry.name]?.evict()
                bytes -= entry.bytes
            }
        }
    }
}
