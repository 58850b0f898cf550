import Foundation
import Testing

@_spi(Testing) @testable import AuditLog

/// A fresh directory under the system temporary directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("auditlog-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url.path)
}

/// A fully populated event: every typed field, nested policies, redactions, details and
/// unknown fields.
func fullEvent(id: String? = "evt_full_1", at timestamp: Timestamp = Timestamp(rfc3339: "2026-03-20T10:30:00.123Z")!) -> AuditEvent {
    var e = AuditEvent(eventType: "decision", timestamp: timestamp, id: id)
    e.verdict = .block
    e.reasonCode = "prompt_injection_detected"
    e.user = "alice@acme.com"
    e.team = "payments"
    e.model = "gpt-4o"
    e.provider = "openai"
    e.configVersion = "0.2.0"
    e.apiKey = "key_ci_bot"
    e.source = "ide"
    e.tokensIn = 1245
    e.tokensOut = 832
    e.tokensCached = 512
    e.tokensReasoning = 0
    e.cost = Cost(decimal: "0.0142")
    e.latencyMicros = 812_000
    e.cacheHit = false
    e.requestID = "req_9f2"
    e.sessionID = "ses_77"
    e.gateway = "gw-eu-1"
    e.ip = "203.0.113.42"
    e.userAgent = "Workjet Desktop/1.2.0"
    e.policies = [
        PolicyDecision(name: "block-injection", kind: "prompt_injection", phase: "input", verdict: "block", reason: "prompt_injection_detected", extra: [JSONMember("score", .number("0.97"))])
    ]
    e.redactions = [Redaction(kind: "api_key", replacement: "[REDACTED:api_key]")]
    e.resource = "chat:conv_abc123"
    e.details = .object([JSONMember("old", .object([])), JSONMember("new", .array([.null, .bool(true), .string("x\n\"y\"")]))])
    e.extra = [JSONMember("tenant", .string("acme")), JSONMember("labels", .object([JSONMember("env", .string("prod"))]))]
    return e
}

/// Simple events spread over time, one every `stepSeconds`.
func events(_ count: Int, from start: Timestamp = Timestamp(rfc3339: "2026-03-20T00:00:00Z")!, stepSeconds: Int64 = 1, prefix: String? = nil) -> [AuditEvent] {
    (0..<count).map { i in
        var e = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: start.nanosSinceEpoch + Int64(i) * stepSeconds * 1_000_000_000))
        e.id = prefix.map { "\($0)\(i)" }
        e.verdict = [.allow, .block, .redact, .escalate][i % 4]
        e.user = "user\(i % 7)@acme.com"
        e.model = ["gpt-4o", "claude-sonnet-4"][i % 2]
        e.tokensIn = Int64(i)
        e.cost = Cost(nanodollars: Int64(i) * 1_000)
        return e
    }
}

/// A closed log of `count` generated events over `days` days ending 2026-03-21 (one append
/// group), in segments of at most `segmentBytes` (the group completes the last one).
@discardableResult
func writeGeneratedLog(_ dir: String, seed: UInt64, count: Int, days: Double, segmentBytes: Int64) async throws -> AuditLog {
    var options = testOptions()
    options.segmentSizeLimitBytes = segmentBytes
    let log = try await AuditLog.open(directory: dir, options: options)
    try await appendGenerated(to: log, seed: seed, count: count, days: days, batchSize: count)
    try await log.close()
    return log
}

/// Appends `count` generated events over `days` days ending 2026-03-21 to `log`, in batches of
/// `batchSize` (one group each when nothing else appends).
func appendGenerated(to log: AuditLog, seed: UInt64, count: Int, days: Double, batchSize: Int) async throws {
    var generator = EventGenerator(seed: seed, count: count, days: days, end: Timestamp(rfc3339: "2026-03-21T00:00:00Z")!)
    var batch: [AuditEvent] = []
    while let e = generator.next() {
        batch.append(e)
        if batch.count == batchSize {
            _ = try await log.append(batch)
            batch.removeAll(keepingCapacity: true)
        }
    }
    if !batch.isEmpty { _ = try await log.append(batch) }
}

/// All records of a log, oldest first.
func readAll(_ log: AuditLog, order: ReadOrder = .oldestFirst) async throws -> [Record] {
    var out: [Record] = []
    for try await record in log.records(order: order) { out.append(record) }
    return out
}

/// Every record of `query`, read in pages of `pageSize` that each resume at the previous
/// page's cursor until there is none.
func readPages(_ log: AuditLog, _ query: Query, pageSize: Int) async throws -> [Record] {
    var out: [Record] = []
    var q = query
    q.limit = pageSize
    repeat {
        let page = try await log.page(q)
        out += page.records
        q.cursor = page.nextCursor
    } while q.cursor != nil
    return out
}

/// Segment file paths of a log directory, oldest first.
func segmentPaths(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory + "/segments")
        .filter { $0.hasSuffix(".seg") }.sorted().map { directory + "/segments/" + $0 }
}

/// Index file paths of a log directory, oldest first.
func indexPaths(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory + "/segments")
        .filter { $0.hasSuffix(".idx") }.sorted().map { directory + "/segments/" + $0 }
}

func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// Flips the bits of one byte of a file in place.
func flipByte(_ path: String, at offset: Int) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try handle.read(upToCount: 1) ?? Data([0])
    try handle.seek(toOffset: UInt64(offset))
    try handle.write(contentsOf: Data([byte[0] ^ 0xFF]))
}

func truncateFile(_ path: String, to length: Int) throws {
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: UInt64(length))
}

/// Options for tests: no fsync (fast), small segments when asked.
func testOptions(segmentBytes: Int64 = 64 << 20, durability: AuditLogOptions.Durability = .none) -> AuditLogOptions {
    var o = AuditLogOptions()
    o.durability = durability
    o.segmentSizeLimitBytes = segmentBytes
    return o
}

/// (offset, header) of every frame of segment `name` in the log at `dir`, walked as readers do.
func frameHeaders(_ dir: String, _ name: String) throws -> [(offset: Int64, header: FrameHeader)] {
    let walker = try SegmentWalker(LogDirectory(path: dir), name)
    var out: [(Int64, FrameHeader)] = []
    while case .frame(let h, let offset) = try walker.next(.skip) { out.append((offset, h)) }
    return out
}

/// The records of the frame at `offset` of segment `name`, decoded.
func frameRecords(_ dir: String, _ name: String, at offset: Int64, _ header: FrameHeader) throws -> [Record] {
    let walker = try SegmentWalker(LogDirectory(path: dir), name)
    _ = try walker.frame(at: offset, firstSeq: header.firstSeq, count: header.recordCount)
    var records: [Record] = []
    try walker.forEachRecord { (seq, bytes) throws(FormatError) in records.append(Record(seq: seq, event: try AuditEvent.decodeRecord(bytes))) }
    return records
}

/// The real file system, counting the bytes read from segment files (`.seg`): how tests see
/// how much of a segment an operation had to read.
final class CountingFileSystem: FileSystem, @unchecked Sendable {
    private let base = PosixFileSystem()
    private let lock = NSLock()
    private var bytes: Int64 = 0
    private var opened: [String] = []
    private var pathsOpened: [String] = []
    private var looked: [String] = []

    var segmentBytesRead: Int64 { lock.withLock { bytes } }
    /// The segment files opened for reading, by name, in order.
    var segmentsOpened: [String] { lock.withLock { opened } }
    /// Every path opened for reading, in order.
    var opens: [String] { lock.withLock { pathsOpened } }
    /// Every path asked about (`fileExists`, `isDirectory`), in order.
    var looks: [String] { lock.withLock { looked } }
    private func look(_ path: String) { lock.withLock { looked.append(path) } }
    func count(_ n: Int) { lock.withLock { bytes += Int64(n) } }

    final class File: SegmentFile {
        let file: any SegmentFile
        let owner: CountingFileSystem
        init(_ file: any SegmentFile, owner: CountingFileSystem) { self.file = file; self.owner = owner }
        var displayName: String { file.displayName }
        func size() throws(AuditLogError) -> Int64 { try file.size() }
        func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(AuditLogError) -> Int {
            let n = try file.read(into: &buffer, count: count, at: offset)
            owner.count(n)
            return n
        }
        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(AuditLogError) { try file.write(bytes, at: offset) }
        func sync() throws(AuditLogError) { try file.sync() }
        func truncate(to length: Int64) throws(AuditLogError) { try file.truncate(to: length) }
        func close() { file.close() }
    }

    func openForReading(_ path: String, displayName: String) throws(AuditLogError) -> any SegmentFile {
        let file = try base.openForReading(path, displayName: displayName)
        lock.withLock { pathsOpened.append(path) }
        guard path.hasSuffix(".seg") else { return file }
        lock.withLock { opened.append(String(path.split(separator: "/").last ?? "")) }
        return File(file, owner: self)
    }
    func openForWriting(_ path: String, displayName: String, create: Bool, exclusive: Bool) throws(AuditLogError) -> any SegmentFile {
        try base.openForWriting(path, displayName: displayName, create: create, exclusive: exclusive)
    }
    func remove(_ path: String) throws(AuditLogError) { try base.remove(path) }
    func rename(_ from: String, to: String, displayName: String) throws(AuditLogError) { try base.rename(from, to: to, displayName: displayName) }
    func syncDirectory(_ path: String) throws(AuditLogError) { try base.syncDirectory(path) }
    func listDirectory(_ path: String) throws(AuditLogError) -> [String] { try base.listDirectory(path) }
    func makeDirectory(_ path: String) throws(AuditLogError) { try base.makeDirectory(path) }
    func fileExists(_ path: String) -> Bool {
        look(path)
        return base.fileExists(path)
    }
    func fileSize(_ path: String) -> Int64? { base.fileSize(path) }
    func isDirectory(_ path: String) -> Bool {
        look(path)
        return base.isDirectory(path)
    }
    func lockExclusive(_ path: String, displayName: String) throws(AuditLogError) -> (any FileLock)? { try base.lockExclusive(path, displayName: displayName) }
}
