/// Every log archived under one prefix — a fleet of gateway nodes, each writing its own log —
/// read as one: pages merged by event time with cursors that stay valid as nodes grow, lookups
/// by id on every node, usage summed exactly, verification per node in one report.
///
/// ```swift
/// let fleet = try await AuditLog.openFleet(archive: options, directory: "/var/cache/audit-fleet")
/// let page = try await fleet.page(Query(filter: EventFilter(verdicts: [.block]), limit: 50))
/// for r in page.records { print(r.node, r.record.seq, r.record.event.id ?? "") }
/// ```
///
/// A node is its log id in hex; a node's events are those it archived (its active segment is
/// not in the store until it seals). The fleet is read-only.
public final class AuditFleet: Sendable {
    /// One node: its log id (hex) and its archived log, open read-only.
    public struct Node: Sendable {
        /// The node's log id, 32 lowercase hex digits.
        public let id: String
        /// The node's log.
        public let log: AuditLog
    }

    /// The nodes, by id.
    public let nodes: [Node]
    /// The archive they are read from.
    public let archive: ArchiveOptions

    init(nodes: [Node], archive: ArchiveOptions) {
        self.nodes = nodes
        self.archive = archive
    }

    /// Opens every node's log archived at `archive`'s location, mirroring their receipts in
    /// `directory` (which also holds the cache of archived bytes, bounded by
    /// ``ArchiveOptions/cacheSizeBytes``). Only what is new since the last open is fetched.
    public static func open(archive: ArchiveOptions, directory: String) async throws(AuditLogError) -> AuditFleet {
        let credentials: ArchiveCredentials
        if let given = archive.credentials { credentials = given } else { credentials = try ArchiveCredentials.fromEnvironment() }
        let store = try S3Client(
            location: archive.location,
            credentials: SigV4.Credentials(accessKey: credentials.accessKeyID, secretKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken))
        let ids = try await BlockingIO.run { () throws(AuditLogError) in try FleetCatalog.sync(store: store, location: archive.location, directory: directory) }
        let reads = RemoteReads(store: store, cache: BlockCache(path: directory + "/archive-cache", budgetBytes: archive.cacheSizeBytes))
        var nodes: [Node] = []
        for id in ids {
            var files = LogDirectory(path: directory + "/nodes/" + id)
            files.remote = reads
            nodes.append(Node(id: id, log: try await AuditLog.open(files: files, options: .readOnly)))
        }
        return AuditFleet(nodes: nodes, archive: archive)
    }

    /// The nodes `only` names (all when nil); an unknown id is an error that lists the nodes.
    func selected(_ only: Set<String>?) throws(AuditLogError) -> [Node] {
        guard let only else { return nodes }
        let known = Set(nodes.map(\.id))
        if let unknown = only.subtracting(known).sorted().first {
            throw AuditLogError(
                .invalidArgument, "no node '\(unknown)' in the fleet (nodes: \(nodes.map(\.id).joined(separator: ", ")))", location: .init(field: "node"))
        }
        return nodes.filter { only.contains($0.id) }
    }

    // MARK: Queries

    /// One page of `query` across the nodes (`only`: these nodes), merged by event time in the
    /// query's order (ties: node id, then seq). ``Query/limit`` defaults to 100; the cursor is
    /// one this method returned (``FleetPage/nextCursor``).
    public func page(_ query: Query, only: Set<String>? = nil) async throws(AuditLogError) -> FleetPage {
        let limit = max(1, query.limit ?? 100)
        let chosen = try selected(only)
        var positions = try FleetCursor.decode(query.cursor, order: query.order)
        // Each node's next `limit` records after its position, concurrently.
        var fetched: [String: QueryPage] = [:]
        let result: Result<[(String, QueryPage)], AuditLogError> = await withTaskGroup(of: Result<(String, QueryPage), AuditLogError>.self) { group in
            for node in chosen {
                var q = query
                q.limit = limit
                q.cursor = positions[node.id].map { Query.cursor(after: $0, order: query.order) }
                group.addTask {
                    do throws(AuditLogError) { return .success((node.id, try await node.log.page(q))) } catch { return .failure(error) }
                }
            }
            var pages: [(String, QueryPage)] = []
            for await r in group {
                switch r {
                case .success(let p): pages.append(p)
                case .failure(let e): return .failure(e)
                }
            }
            return .success(pages)
        }
        for (id, page) in try result.get() { fetched[id] = page }

        // A k-way merge of the nodes' pages, each already in its node's order.
        var heads = fetched.mapValues { _ in 0 }
        var records: [FleetRecord] = []
        let newestFirst = query.order == .newestFirst
        while records.count < limit {
            var best: (id: String, record: Record)?
            for (id, page) in fetched {
                guard let i = heads[id], i < page.records.count else { continue }
                let r = page.records[i]
                guard let b = best else {
                    best = (id, r)
                    continue
                }
                let t = r.event.timestamp.nanosSinceEpoch
                let bt = b.record.event.timestamp.nanosSinceEpoch
                let before = newestFirst ? t > bt : t < bt
                if before || (t == bt && id < b.id) { best = (id, r) }
            }
            guard let chosenRecord = best else { break }
            records.append(FleetRecord(node: chosenRecord.id, record: chosenRecord.record))
            heads[chosenRecord.id, default: 0] += 1
            positions[chosenRecord.id] = chosenRecord.record.seq
        }
        let more = fetched.contains { id, page in (heads[id] ?? 0) < page.records.count || page.nextCursor != nil }
        return FleetPage(records: records, nextCursor: more ? FleetCursor.encode(positions, order: query.order) : nil)
    }

    /// The event with `id` on any node (the first node, by id, that has it).
    public func event(id: String) async throws(AuditLogError) -> FleetRecord? {
        for node in nodes {
            if let record = try await node.log.event(id: id) { return FleetRecord(node: node.id, record: record) }
        }
        return nil
    }

    /// Usage across the nodes (`only`: these), summed exactly: every node's groups are merged
    /// before they become rows (latency percentiles from the merged sketches).
    public func usage(
        window: TimeWindow = .all, groupBy: [UsageGroup] = [], filter: EventFilter = EventFilter(), columns: UsageColumns = [], only: Set<String>? = nil
    ) async throws(AuditLogError) -> UsageReport {
        var total = UsageEngine.Partial()
        for node in try selected(only) {
            total.merge(try await node.log.usagePartial(window: window, groupBy: groupBy, filter: filter, columns: columns))
        }
        return UsageEngine.report(total, window: window, groupBy: groupBy, columns: columns)
    }

    /// Verifies every node's archived log (from the store, not the cache).
    public func verify(_ options: VerificationOptions = VerificationOptions()) async throws(AuditLogError) -> FleetVerification {
        var reports: [FleetVerification.NodeReport] = []
        for node in nodes { reports.append(.init(node: node.id, report: try await node.log.verify(options))) }
        return FleetVerification(nodes: reports)
    }
}

extension AuditLog {
    /// Every node's archived log under `archive`'s location, read as one (``AuditFleet``).
    public static func openFleet(archive: ArchiveOptions, directory: String) async throws(AuditLogError) -> AuditFleet {
        try await AuditFleet.open(archive: archive, directory: directory)
    }
}

/// A record and the node whose log holds it.
public struct FleetRecord: Sendable, Hashable {
    /// The node's log id (hex).
    public var node: String
    /// The record, with its seq in that node's log.
    public var record: Record

    /// The event as JSON with `node` and `seq` first.
    public func jsonText() -> String {
        var bytes: [UInt8] = []
        record.event.appendJSON(to: &bytes, seq: record.seq)
        return "{\"node\":\"\(node)\"," + String(decoding: bytes.dropFirst(), as: UTF8.self)
    }
}

/// One page of a fleet query.
public struct FleetPage: Sendable, Hashable {
    /// The records, merged by event time.
    public var records: [FleetRecord]
    /// Pass as ``Query/cursor`` for the next page; nil when there is none.
    public var nextCursor: String?
}

/// Every node's verification.
public struct FleetVerification: Sendable, Hashable {
    /// One node's report.
    public struct NodeReport: Sendable, Hashable {
        /// The node's log id (hex).
        public var node: String
        /// Its log's verification.
        public var report: VerificationReport
    }

    /// One report a node, by node id.
    public var nodes: [NodeReport]

    /// Whether every node's log is intact.
    public var isIntact: Bool { nodes.allSatisfy(\.report.isIntact) }
}
