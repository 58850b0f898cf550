import Foundation
import Testing

@testable import AuditLog

/// An archived segment's blocks hinted by a query (``RemoteSegmentFile/willNeed(_:)``) are
/// fetched several at a time into the block cache, and the reads that follow are answered
/// there. The store here stands in for a distant S3: one object in memory, each ranged GET
/// taking 20 ms; the S3 requests themselves are covered against moto by `ArchiveTests`.
@Suite struct RemotePrefetchTests {
    final class DistantStore: ObjectStore {
        let object: [UInt8]
        private let counts = Locked((gets: 0, inFlight: 0, most: 0))

        init(object: [UInt8]) { self.object = object }

        var gets: Int { counts.withLock { $0.gets } }
        var mostAtOnce: Int { counts.withLock { $0.most } }

        func get(_ key: String, range: Range<Int64>) throws(AuditLogError) -> [UInt8] {
            counts.withLock { c in
                c.gets += 1
                c.inFlight += 1
                c.most = max(c.most, c.inFlight)
            }
            usleep(20_000)
            counts.withLock { $0.inFlight -= 1 }
            return Array(object[Int(range.lowerBound)..<Int(min(range.upperBound, Int64(object.count)))])
        }

        func put(_ key: String, _ body: [UInt8], sha256: [UInt8], retainUntil: Timestamp?) throws(AuditLogError) -> PutOutcome { .exists }
        func head(_ key: String) throws(AuditLogError) -> ObjectInfo? { ObjectInfo(size: Int64(object.count)) }
        func delete(_ key: String) throws(AuditLogError) {}
        func list(prefix: String) throws(AuditLogError) -> [ListedObject] { [] }
        func describe(_ key: String) -> String { "distant://" + key }
    }

    @Test func hintedBlocksAreFetchedSeveralAtATimeAndReadFromTheCache() async throws {
        try await withTemporaryDirectory { dir in
            var rng = SplitMix64(seed: 18)
            let block = 64 << 10
            let object = (0..<(10 * block - 100)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let store = DistantStore(object: object)
            let reads = RemoteReads(store: store, cache: BlockCache(path: dir + "/cache", budgetBytes: 1 << 30), blockSize: block)
            let file = RemoteSegmentFile(reads: reads, key: "k", size: Int64(object.count), sha256: Array(repeating: 7, count: 32))

            // A range in block 0, one across blocks 2–3 and one across 5–8: seven blocks, once.
            file.willNeed([0..<10, Int64(2 * block + 5)..<Int64(3 * block + 9), Int64(5 * block)..<Int64(8 * block + 1)])
            #expect(store.gets == 7)
            #expect(store.mostAtOnce > 1, "one GET at a time")

            // The reads of those blocks come from the cache; blocks 1, 4 and 9 from the store.
            var buffer: [UInt8] = []
            let n = try file.read(into: &buffer, count: object.count, at: 0)
            #expect(n == object.count)
            let same = buffer.prefix(n).elementsEqual(object)
            #expect(same)
            #expect(store.gets == 10)

            // Hinted again: everything is cached, nothing is fetched.
            file.willNeed([0..<Int64(object.count)])
            #expect(store.gets == 10)

            // Without a cache the blocks would have nowhere to wait: a hint fetches nothing.
            let uncached = RemoteSegmentFile(reads: reads.uncached, key: "k", size: Int64(object.count), sha256: Array(repeating: 8, count: 32))
            uncached.willNeed([0..<Int64(object.count)])
            #expect(store.gets == 10)
        }
    }
}
