import AuditLogTestSupport
import Crypto
import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// A log archiving to moto: uploads on seal, eviction of confirmed local copies, reads through
/// the archive as if nothing moved, and what happens when the store fails or lies.
@Suite(.enabled(if: MotoServer.isAvailable, "moto_server is not installed (pip install 'moto[server]')"))
struct ArchiveTests {
    /// Hourly partitions and 8 KiB segments: 600 events over 5 hours make a dozen segments.
    func writerOptions(_ moto: MotoServer) throws -> AuditLogOptions {
        var o = testOptions(segmentBytes: 8192)
        o.partition = .hour
        o.archive = try moto.archive("audit")
        return o
    }

    func readerOptions(_ moto: MotoServer) throws -> AuditLogOptions {
        var o = AuditLogOptions.readOnly
        o.archive = try moto.archive("audit")
        return o
    }

    /// Every record as `seq json`, oldest first.
    func export(_ log: AuditLog) async throws -> [String] {
        try await readAll(log).map { "\($0.seq) \($0.event.jsonText())" }
    }

    func sealedNames(_ dir: String) throws -> [String] {
        let log = LogDirectory(path: dir)
        return try log.segmentNames().filter { log.exists(LogDirectory.name(of: .archived, forSegment: $0)) }
    }

    /// Waits (up to 20 s) until `condition` holds.
    func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    @Test func uploadsEvictsAndReadsThrough() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            var options = try writerOptions(moto)
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(600, stepSeconds: 30, prefix: "e"))
            let before = try await export(log)
            let usageBefore = try await log.usage(groupBy: [.user])
            try await log.close()  // waits for the uploads

            // Every sealed segment has a receipt, and its objects are in the bucket, byte for byte.
            let all = try LogDirectory(path: dir).segmentNames()
            let archived = try sealedNames(dir)
            #expect(archived.count == all.count - 1 && archived.count >= 4, "\(archived.count) of \(all.count)")
            let s3 = try moto.client("audit")
            for name in archived {
                let receipt = try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: name))
                let local = try Data(contentsOf: URL(fileURLWithPath: dir + "/segments/" + name))
                #expect(try s3.get(receipt.key, range: 0..<Int64(local.count)) == Array(local))
                #expect(receipt.indexKey != nil)
            }
            // The location is remembered.
            #expect(try AuditLog.rememberedArchive(in: dir)?.location.url == "s3://audit/audit")

            // A writer with local retention 0 evicts every confirmed segment (and its index).
            options.archive?.localRetention = .zero
            let evicting = try await AuditLog.open(directory: dir, options: options)
            #expect(try await eventually { try segmentPaths(dir).count == 1 })
            try await evicting.close()
            #expect(!FileManager.default.fileExists(atPath: dir + "/segments/" + LogDirectory.name(of: .index, forSegment: archived[0])))

            // Every read sees the same log.
            let reader = try await AuditLog.open(directory: dir, options: try readerOptions(moto))
            #expect(try await export(reader) == before)
            #expect(try await readAll(reader, order: .newestFirst).map(\.seq.rawValue) == (1...600).reversed().map { UInt64($0) })
            #expect(try await reader.event(id: "e3")?.seq.rawValue == 4)
            #expect(try await reader.usage(groupBy: [.user]).rows == usageBefore.rows)
            #expect(reader.archiveState(of: reader.segments[0]) == .evicted)
            let report = try await reader.verify()
            #expect(report.isIntact, "\(report.issues)")
            #expect(report.recordsChecked == 600)
            // The writer opens and appends after eviction; the chain continues. Its duplicate-id
            // check reads the archived indexes' id tables, not the segments: one segment block
            // is fetched, to confirm the duplicate.
            try? FileManager.default.removeItem(atPath: dir + "/archive-cache")
            let writer = try await AuditLog.open(directory: dir, options: options)
            await #expect(throws: AuditLogError.self) { _ = try await writer.append(events(1, prefix: "e")) }  // "e0" again
            let segmentHashes = Set(try archived.map { try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: $0)).sha256 }.map(Hex.encode))
            let cached = try FileManager.default.contentsOfDirectory(atPath: dir + "/archive-cache").filter { !$0.hasPrefix(".") }
            #expect(cached.filter { segmentHashes.contains(String($0.prefix(64))) }.count == 1, "\(cached)")
            _ = try await writer.append(events(10, from: Timestamp(rfc3339: "2026-03-20T06:00:00Z")!, prefix: "late"))
            try await writer.close()
            #expect(try await AuditLog.verify(directory: dir, options: VerificationOptions(archive: try moto.archive("audit"))).isIntact)
        }
    }

    /// Every section of an index file, checked: what opening a log does not read.
    func checkIndexFile(_ path: String) throws {
        let reader = try IndexFile.Reader(file: try PosixFileSystem().openForReading(path, displayName: path)) { _ in true }
        try reader.checkSections()
    }

    @Test func anIndexTornPastItsHeaderIsRebuiltBeforeItIsArchived() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            var local = try writerOptions(moto)
            local.archive = nil
            let log = try await AuditLog.open(directory: dir, options: local)
            _ = try await log.append(events(300, stepSeconds: 30, prefix: "t"))
            try await log.close()
            // Index files are written without a sync: a power cut can keep one whose header and
            // directory are whole and whose last section is not what was written.
            let indexes = try indexPaths(dir)
            let torn = try #require(indexes.first)
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: torn)))
            for i in (bytes.count - 16)..<bytes.count { bytes[i] ^= 0xFF }
            try Data(bytes).write(to: URL(fileURLWithPath: torn))
            #expect(throws: AuditLogError.self) { try checkIndexFile(torn) }

            // The next writer archives every sealed segment, each with an index that checks out.
            let writer = try await AuditLog.open(directory: dir, options: try writerOptions(moto))
            try await writer.close()
            let names = try sealedNames(dir)
            #expect(names.count == indexes.count && names.count >= 2, "\(names.count) archived, \(indexes.count) indexes")
            let s3 = try moto.client("audit")
            for name in names {
                let receipt = try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: name))
                let archived = try s3.get(try #require(receipt.indexKey), range: 0..<(try #require(receipt.indexSize)))
                let copy = dir + "/archived.idx"
                try Data(archived).write(to: URL(fileURLWithPath: copy))
                #expect(throws: Never.self, "\(name)") { try checkIndexFile(copy) }
            }
            #expect(throws: Never.self) { try checkIndexFile(torn) }  // rebuilt in place too
            #expect(writer.indexRebuilds.contains { torn.hasSuffix($0.file) }, "\(writer.indexRebuilds)")
        }
    }

    @Test func aStoreThatIsDownKeepsSegmentsLocalUntilTheNextWriter() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        try await withTemporaryDirectory { dir in
            var options = try writerOptions(moto)
            options.archive?.uploadTimeout = .seconds(2)
            moto.stop()  // nothing answers
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(300, stepSeconds: 30, prefix: "a"))
            let status = try #require(log.archiveStatus())
            #expect(status.pendingSegments >= 2)
            try await log.close()
            #expect(try sealedNames(dir).isEmpty)
            let before = try await export(try await AuditLog.open(directory: dir, options: .readOnly))

            // The store is back (a new one, empty): the next writer uploads what waited.
            let again = try MotoServer(buckets: ["audit"])
            defer { again.stop() }
            var retry = try writerOptions(again)
            retry.archive?.localRetention = .zero
            let writer = try await AuditLog.open(directory: dir, options: retry)
            #expect(try await eventually { try segmentPaths(dir).count == 1 })
            try await writer.close()
            let reader = try await AuditLog.open(directory: dir, options: try readerOptions(again))
            #expect(try await export(reader) == before)
        }
    }

    @Test func aSweepDeletesArchivedSegmentsUnlessLocked() async throws {
        let moto = try MotoServer(buckets: ["audit", "locked:lock"])
        defer { moto.stop() }
        for locked in [false, true] {
            try await withTemporaryDirectory { dir in
                var options = try writerOptions(moto)
                options.archive = try moto.archive(locked ? "locked" : "audit")
                options.archive?.objectLockDays = locked ? 1 : nil
                options.archive?.localRetention = .zero
                let log = try await AuditLog.open(directory: dir, options: options)
                _ = try await log.append(events(600, stepSeconds: 30))
                try await log.close()
                let names = try LogDirectory(path: dir).segmentNames()
                let receipts = try names.dropLast().map { try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: $0)) }
                #expect(try segmentPaths(dir).count == 1)  // evicted at close

                // Events of 2026-03-20 before 02:00 go: the first two hourly segments at least.
                let writer = try await AuditLog.open(directory: dir, options: options)
                let report = try await writer.sweep(
                    RetentionPolicy(maxAge: .hours(1)), actor: "test", now: Timestamp(rfc3339: "2026-03-20T03:00:00Z")!)
                try await writer.close()
                #expect(report.segments.count >= 2)
                // Under lock, the sweep says how many stay in the archive and until when, in
                // its report and in its record in the chain.
                #expect(report.archivedLockedSegments == (locked ? report.segments.count : 0))
                #expect((report.archivedLockedUntil != nil) == locked)
                let reader = try await AuditLog.open(directory: dir, options: .readOnly)
                let recordSeq = try #require(report.recordSeq)
                let sweepRecord = try #require(try await reader.record(at: recordSeq))
                #expect((sweepRecord.event.details?["archive_locked"] != nil) == locked)
                let s3 = try moto.client(locked ? "locked" : "audit")
                for receipt in receipts {
                    let swept = report.segments.contains { $0.fileName == receipt.segment }
                    let present = try s3.head(receipt.key) != nil
                    // Swept objects are deleted, unless locked: those expire by themselves.
                    #expect(present == (!swept || locked), "\(receipt.segment) swept \(swept) locked \(locked)")
                }
                let verify = try await AuditLog.verify(directory: dir, options: VerificationOptions(archive: options.archive))
                #expect(verify.isIntact, "\(verify.issues)")
            }
        }
    }

    @Test func failedRequestsAreRetriedWithoutLossOrDuplicates() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        let proxy = try FlakyProxy(upstream: moto.endpoint, every: 5)
        defer { proxy.stop() }
        try await withTemporaryDirectory { dir in
            var options = testOptions(segmentBytes: 8192)
            options.partition = .hour
            var archive = ArchiveOptions(location: try ArchiveLocation(url: "s3://audit/flaky", endpoint: proxy.endpoint))
            archive.credentials = moto.credentials
            archive.localRetention = .zero
            options.archive = archive
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(600, stepSeconds: 30, prefix: "f"))
            let before = try await export(log)
            #expect(try await eventually { log.archiveStatus()?.pendingSegments == 0 })
            let status = try #require(log.archiveStatus())
            #expect(status.failures > 0)  // the proxy did fail some
            #expect(status.conflicts.isEmpty)
            try await log.close()

            // Every sealed segment is in the store once, under its own key, and reads back.
            let names = try LogDirectory(path: dir).segmentNames().dropLast()
            let keys = try moto.client("audit").list(prefix: "flaky").map(\.key)
            let segmentKeys = keys.filter { $0.hasSuffix(".seg") }
            #expect(segmentKeys.count == names.count)
            #expect(Set(segmentKeys).count == segmentKeys.count)
            #expect(try segmentPaths(dir).count == 1)
            var reader = AuditLogOptions.readOnly
            reader.archive = try moto.archive("audit", prefix: "flaky")
            #expect(try await export(try await AuditLog.open(directory: dir, options: reader)) == before)
        }
    }

    /// A read of an evicted segment goes on when a connection to the store drops now and then
    /// (every third request here): reads are tried again as a 500 is (a CI run once lost an
    /// export to one dropped connection under load).
    @Test func readsOfArchivedSegmentsSurviveDroppedConnections() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            var options = try writerOptions(moto)
            options.archive?.localRetention = .zero
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(600, stepSeconds: 30, prefix: "d"))
            let before = try await export(log)
            #expect(try await eventually { log.archiveStatus()?.pendingSegments == 0 })
            try await log.close()
            #expect(try segmentPaths(dir).count == 1, "every sealed segment evicted")
            let proxy = try FlakyProxy(upstream: moto.endpoint, every: 3, dropping: true)
            defer { proxy.stop() }
            var reader = AuditLogOptions.readOnly
            reader.archive = options.archive
            reader.archive?.location.endpoint = proxy.endpoint
            #expect(try await export(try await AuditLog.open(directory: dir, options: reader)) == before)
        }
    }

    @Test func aReceiptOfOtherBytesIsReplacedNeverTrusted() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            let options = try writerOptions(moto)
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(300, stepSeconds: 30))
            try await log.close()
            // A receipt that does not describe the local segment (as one left when a failed
            // group reopened a sealed segment): a writer must not evict on its word.
            let name = try LogDirectory(path: dir).segmentNames()[0]
            let path = dir + "/segments/" + LogDirectory.name(of: .archived, forSegment: name)
            let receipt = try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: name))
            var stale = receipt
            stale.size -= 1
            try Data(stale.encoded()).write(to: URL(fileURLWithPath: path))
            var evicting = options
            evicting.archive?.localRetention = .zero
            let writer = try await AuditLog.open(directory: dir, options: evicting)
            try await writer.close()
            let fresh = try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: name))
            #expect(fresh.size == receipt.size && fresh.sha256 == receipt.sha256)
            let reader = try await AuditLog.open(directory: dir, options: try readerOptions(moto))
            #expect(try await readAll(reader).count == 300)
            #expect(try await reader.verify().isIntact)
        }
    }

    @Test func theNewestCheckpointAndItsTilesAreArchived() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            var options = try writerOptions(moto)
            let signer = try NoteSigner(name: "test.example/log", seed: Array(repeating: 7, count: 32))
            options.checkpointSigning = try CheckpointSigning(signerKey: signer.text, interval: .seconds(3600))
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(600, stepSeconds: 30))
            try await log.close()  // signs a checkpoint of 600 entries, then archives it
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            let prefix = "audit/\(reader.logID)/"
            let s3 = try moto.client("audit")
            func object(_ key: String) throws -> [UInt8]? {
                guard let info = try s3.head(prefix + key) else { return nil }
                return try s3.get(prefix + key, range: 0..<info.size)
            }
            let latest = try Data(contentsOf: URL(fileURLWithPath: dir + "/checkpoints/latest"))
            #expect(try object("checkpoints/600") == Array(latest))
            // 600 leaves: two full level-0 tiles and 88 at the edge; two level-1 nodes.
            for (path, tile) in [
                ("tile/0/000", TlogTiles.Tile(level: 0, index: 0, width: 256)), ("tile/0/001", TlogTiles.Tile(level: 0, index: 1, width: 256)),
                ("tile/0/002.p/88", TlogTiles.Tile(level: 0, index: 2, width: 88)), ("tile/1/000.p/2", TlogTiles.Tile(level: 1, index: 0, width: 2)),
            ] {
                let expected = try #require(try await reader.tlogTile(tile))
                #expect(try object(path) == expected, "\(path)")
            }
            #expect(LogDirectory(path: dir).archivedTreeSize() == 600)
        }
    }

    @Test func aDifferentObjectUnderTheKeyIsAConflictNeverOverwritten() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            let options = try writerOptions(moto)
            let log = try await AuditLog.open(directory: dir, options: options)
            let logID = log.logID.description
            // Someone put other bytes where the first segment goes.
            let key = "audit/\(logID)/segments/" + LogDirectory.segmentName(firstSeq: SequenceNumber(1))
            _ = try moto.client("audit").put(key, [1, 2, 3], sha256: Array(SHA256Digest(bytes: [1, 2, 3])), retainUntil: nil)
            _ = try await log.append(events(300, stepSeconds: 30))
            try await log.close()
            #expect(try moto.client("audit").get(key, range: 0..<3) == [1, 2, 3])
            let first = LogDirectory.segmentName(firstSeq: SequenceNumber(1))
            #expect(try LogDirectory(path: dir).archiveReceiptIfAny(of: first) == nil)
            #expect(try sealedNames(dir).count >= 1)  // the others went
        }
    }

    @Test func verifyNamesATamperedArchivedObject() async throws {
        let moto = try MotoServer(buckets: ["audit"])
        defer { moto.stop() }
        try await withTemporaryDirectory { dir in
            var options = try writerOptions(moto)
            options.archive?.localRetention = .zero
            let log = try await AuditLog.open(directory: dir, options: options)
            _ = try await log.append(events(300, stepSeconds: 30))
            try await log.close()
            let evict = try await AuditLog.open(directory: dir, options: options)
            #expect(try await eventually { try segmentPaths(dir).count == 1 })
            try await evict.close()
            // Read once (fills the cache), then replace the second segment's object with
            // altered bytes (as someone with write access to the bucket could, without lock).
            let reader = try await AuditLog.open(directory: dir, options: try readerOptions(moto))
            _ = try await export(reader)
            let name = try LogDirectory(path: dir).segmentNames()[1]
            let receipt = try #require(try LogDirectory(path: dir).archiveReceiptIfAny(of: name))
            let s3 = try moto.client("audit")
            var bytes = try s3.get(receipt.key, range: 0..<receipt.size)
            bytes[SegmentHeader.byteCount + 40] ^= 0xFF
            try s3.delete(receipt.key)
            _ = try s3.put(receipt.key, bytes, sha256: Array(SHA256Digest(bytes: bytes)), retainUntil: nil)
            let report = try await reader.verify()
            #expect(!report.isIntact)
            #expect(report.issues.contains { $0.file == "s3://audit/" + receipt.key }, "\(report.issues)")
        }
    }
}

extension SHA256Digest {
    init(bytes: [UInt8]) { self = SHA256.hash(data: bytes) }
}
