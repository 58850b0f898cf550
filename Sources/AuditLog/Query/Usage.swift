import Dispatch

/// Per-segment (or per-worker) results, filled from concurrent workers (each writes only its
/// own slot).
private final class ScanResults<T: Sendable>: Sendable {
    private let slots: Locked<[Result<T, AuditLogError>]>

    init(count: Int, empty: T) { slots = Locked(Array(repeating: .success(empty), count: count)) }

    func set(_ i: Int, _ r: Result<T, AuditLogError>) { slots.withLock { $0[i] = r } }

    var all: [Result<T, AuditLogError>] { slots.withLock { $0 } }
}

/// Computes usage: sealed segments wholly inside the window answer from their rollups when the
/// grouping allows (no filter, no ``UsageColumns``; at most one rolled-up key — user, team,
/// model, provider, api_key, verdict, reason_code, source, event_type — plus at most one time);
/// every other segment is scanned through its index columns, decoding records only for filters
/// on fields without a column and for the gateway. Sums are integers: exactly those of a full
/// scan.
enum UsageEngine {
    /// What one log contributes to a usage report: groups and their aggregates before they
    /// become rows, so that logs (a fleet's nodes) can be summed exactly.
    struct Partial: Sendable {
        var groups: [[String?]: UsageAggregate] = [:]
        var details: [[String?]: UsageDetail] = [:]
        var fromRollups = 0
        var scanned = 0

        mutating func merge(_ other: Partial) {
            for (key, aggregate) in other.groups { groups[key, default: UsageAggregate()].merge(aggregate) }
            for (key, detail) in other.details { details[key, default: UsageDetail()].merge(detail) }
            fromRollups += other.fromRollups
            scanned += other.scanned
        }
    }

    static func run(
        _ context: LogReadContext, segments: [SegmentInfo], window: TimeWindow, groupBy: [UsageGroup], filter: EventFilter, columns: UsageColumns = []
    ) throws(AuditLogError) -> UsageReport {
        report(try partial(context, segments: segments, window: window, groupBy: groupBy, filter: filter, columns: columns), window: window, groupBy: groupBy, columns: columns)
    }

    static func partial(
        _ context: LogReadContext, segments: [SegmentInfo], window: TimeWindow, groupBy: [UsageGroup], filter: EventFilter, columns: UsageColumns = []
    ) throws(AuditLogError) -> Partial {
        let store = context.indexes
        guard Set(groupBy).count == groupBy.count else {
            throw AuditLogError(.invalidArgument, "a usage key appears twice in group-by")
        }
        var groups: [[String?]: UsageAggregate] = [:]
        var details: [[String?]: UsageDetail] = [:]
        var fromRollups = 0
        var scanned = 0
        let keys = groupBy.filter { !$0.isTime }
        let times = groupBy.filter(\.isTime)
        // Rollups exist for user, team, model, provider, api_key, verdict, reason_code, source
        // and event_type, whole segments and hours (which make up days, weeks and months).
        // (Unique users and reasons per group are not in rollups: they take a scan.)
        let rollupEligible = filter.isEmpty && columns.isEmpty && keys.count <= 1 && keys.allSatisfy { $0.dimension?.rollupCode != nil } && times.count <= 1
        var toScan: [SegmentInfo] = []
        var fromRollup: [SegmentInfo] = []
        for segment in segments where segment.recordCount > 0 {
            guard let min = segment.minTimestamp?.nanosSinceEpoch, let max = segment.maxTimestamp?.nanosSinceEpoch,
                window.overlaps(min: min, max: max)
            else { continue }
            if rollupEligible && segment.isSealed && window.covers(min: min, max: max) {
                fromRollup.append(segment)
            } else {
                toScan.append(segment)
            }
        }
        // Rollups: each worker folds every n-th segment's rows into groups of its own (merging
        // rows is most of the work: a row per user per segment), then the few partial results
        // are merged. A segment whose rollups cannot be read is scanned instead.
        let workers = Swift.max(1, Swift.min(4, fromRollup.count))
        let partials = ScanResults<[RolledGroup: UsageAggregate]>(count: workers, empty: [:])
        let unreadable = Locked<[SegmentInfo]>([])
        let rollupList = fromRollup
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var local: [RolledGroup: UsageAggregate] = [:]
            for i in stride(from: w, to: rollupList.count, by: workers) {
                // An index of format version 1 has no rollups of reason_code, source or
                // event_type, one of version 3 no hourly rows of a sparse dimension: such a
                // segment is scanned.
                if let view = try? store.view(rollupList[i], parts: [times.isEmpty ? .rollups : .hourlyRollups]), let rollups = view.rollups,
                    view.rollsUp(keys.first?.dimension, hourly: !times.isEmpty)
                {
                    addRollups(rollups, view: view, key: keys.first, time: times.first, into: &local)
                } else {
                    unreadable.withLock { $0.append(rollupList[i]) }
                }
            }
            partials.set(w, .success(local))
        }
        var rolled: [RolledGroup: UsageAggregate] = [:]
        for partial in partials.all {
            for (group, aggregate) in try partial.get() { rolled[group, default: UsageAggregate()].merge(aggregate) }
        }
        for (group, aggregate) in rolled {
            let key = groupBy.map { g in g.isTime ? bucketText(group.bucket) : group.value }
            groups[key, default: UsageAggregate()].merge(aggregate)
        }
        let fallback = unreadable.withLock { $0 }
        fromRollups = fromRollup.count - fallback.count
        toScan += fallback
        // Scans are independent per segment: each worker takes every n-th segment and sums into
        // groups of its own (a group's aggregate, latency sketch included, is made once a
        // worker, not once a segment), then the few workers' groups are merged.
        let scanList = toScan
        // The filter as tests once, not once a segment.
        let tests = FieldTests(filter)
        let scanWorkers = Swift.max(1, Swift.min(activeProcessorCount(), scanList.count))
        let results = ScanResults<ScanGroups>(count: scanWorkers, empty: ScanGroups())
        DispatchQueue.concurrentPerform(iterations: scanWorkers) { w in
            var local = ScanGroups()
            do throws(AuditLogError) {
                for i in stride(from: w, to: scanList.count, by: scanWorkers) {
                    try scan(context, segment: scanList[i], window: window, groupBy: groupBy, filter: tests, columns: columns, into: &local)
                }
                results.set(w, .success(local))
            } catch {
                results.set(w, .failure(error))
            }
        }
        for result in results.all {
            let found = try result.get()
            for (key, slot) in found.slotByKey { groups[key, default: UsageAggregate()].merge(found.aggregates[slot]) }
            for (key, detail) in found.details { details[key, default: UsageDetail()].merge(detail) }
        }
        scanned = toScan.count
        return Partial(groups: groups, details: details, fromRollups: fromRollups, scanned: scanned)
    }

    /// The rows of `partial`: a series filled, totals, sorted.
    static func report(_ partial: Partial, window: TimeWindow, groupBy: [UsageGroup], columns: UsageColumns) -> UsageReport {
        var groups = partial.groups
        let details = partial.details
        let keys = groupBy.filter { !$0.isTime }
        let times = groupBy.filter(\.isTime)
        var total = UsageAggregate()
        for a in groups.values { total.merge(a) }
        if let time = times.first, keys.count <= 1 { fillSeries(&groups, time: time, groupBy: groupBy, window: window) }
        let timeIndex = groupBy.firstIndex(where: \.isTime)
        var totalDetail = UsageDetail()
        for d in details.values { totalDetail.merge(d) }
        let rows = groups.map { UsageRow(group: $0.key, $0.value, detail: details[$0.key] ?? UsageDetail(), columns: columns) }.sorted { a, b in
            // A time series: oldest bucket first (the texts are fixed-width RFC 3339).
            if let t = timeIndex, a.group[t] != b.group[t] { return (a.group[t] ?? "") < (b.group[t] ?? "") }
            if a.cost != b.cost { return a.cost > b.cost }
            if a.requests != b.requests { return a.requests > b.requests }
            return a.group.map { $0 ?? "" }.lexicographicallyPrecedes(b.group.map { $0 ?? "" })
        }
        return UsageReport(
            groupBy: groupBy, rows: rows, totals: UsageRow(group: groupBy.map { _ in nil }, total, detail: totalDetail, columns: columns),
            segmentsFromRollups: partial.fromRollups, segmentsScanned: partial.scanned)
    }

    private static func bucketText(_ nanos: Int64) -> String { Timestamp(nanosSinceEpoch: nanos).rfc3339 }

    /// The most rows a series is filled to; past it, only buckets with events are listed.
    static let maxSeriesRows = 100_000

    /// Makes a time series of the groups: every bucket from the window's start (or the first
    /// event's) to its end (or the last event's), for every value of the other key seen, with
    /// zeros where there were no events.
    private static func fillSeries(_ groups: inout [[String?]: UsageAggregate], time: UsageGroup, groupBy: [UsageGroup], window: TimeWindow) {
        guard let t = groupBy.firstIndex(of: time), !groups.isEmpty else { return }
        let starts = groups.keys.compactMap { $0[t].flatMap(Timestamp.init(rfc3339:))?.nanosSinceEpoch }
        guard let firstSeen = starts.min(), let lastSeen = starts.max() else { return }
        let first = window.since.map { time.bucket($0.nanosSinceEpoch) } ?? firstSeen
        let last = window.until.map { time.bucket($0.nanosSinceEpoch - 1) } ?? lastSeen
        var others = Set<[String?]>()
        for key in groups.keys {
            var other = key
            other.remove(at: t)
            others.insert(other)
        }
        var buckets: [Int64] = []
        var b = first
        while b <= last {
            buckets.append(b)
            guard buckets.count * others.count <= maxSeriesRows else { return }
            b = time.nextBucket(b)
        }
        for bucket in buckets {
            let text = bucketText(bucket)
            for other in others {
                var key = other
                key.insert(text, at: t)
                if groups[key] == nil { groups[key] = UsageAggregate() }
            }
        }
    }

    /// A group while rollup rows are folded: the rolled-up key's value and the time bucket
    /// (``RollupKey/allTime`` without a time key). Hashed as it is, without building the array
    /// of strings a report's key is for every row (a row per user per segment).
    struct RolledGroup: Hashable, Sendable {
        var value: String?
        var bucket: Int64
    }

    private static func addRollups(
        _ rollups: [RollupKey: UsageAggregate], view: IndexView, key: UsageGroup?, time: UsageGroup?, into groups: inout [RolledGroup: UsageAggregate]
    ) {
        let dimension = key?.dimension
        // By index, keys first: the rows of other dimensions and times (most of them) are
        // passed over without copying their aggregates.
        for i in rollups.indices {
            let row = rollups.keys[i]
            guard row.dimension == dimension, (time == nil) == (row.hourNanos == RollupKey.allTime) else { continue }
            let value = dimension.flatMap { view.string($0, code: row.value) }
            let bucket = time.map { $0.bucket(row.hourNanos) } ?? RollupKey.allTime
            groups[RolledGroup(value: value, bucket: bucket), default: UsageAggregate()].merge(rollups.values[i])
        }
    }

    /// One scanning worker's groups: an aggregate a group, found by its key's strings.
    struct ScanGroups: Sendable {
        var slotByKey: [[String?]: Int] = [:]
        var aggregates: [UsageAggregate] = []
        var details: [[String?]: UsageDetail] = [:]

        /// The slot of the group `key`, made empty when new.
        mutating func slot(_ key: [String?]) -> Int {
            if let slot = slotByKey[key] { return slot }
            aggregates.append(UsageAggregate())
            slotByKey[key] = aggregates.count - 1
            return aggregates.count - 1
        }
    }

    private static func scan(
        _ context: LogReadContext, segment: SegmentInfo, window: TimeWindow, groupBy: [UsageGroup], filter: FieldTests, columns: UsageColumns,
        into groups: inout ScanGroups
    ) throws(AuditLogError) {
        var parts = filter.indexColumns.union([.timestamps, .verdicts, .cacheHits, .metrics])
        if columns.contains(.uniqueUsers) { parts.insert(.dimension(.user)) }
        if columns.contains(.reasons) { parts.insert(.dimension(.reasonCode)) }
        var codeDetails = CodeDetails()
        for dimension in groupBy.compactMap(\.dimension) where dimension.column != nil { parts.insert(.dimension(dimension)) }
        let view = try context.indexes.view(segment, parts: parts)
        let predicate = SegmentPredicate(filter, view: view)
        guard !predicate.isImpossible, let c = view.columns else { return }
        // The gateway has no column: grouping by it reads the records, as a filter on a field
        // without a column does.
        let byGateway = groupBy.contains(.gateway)
        let fetcher = predicate.needsEvent || byGateway ? RecordFetcher(context, view: view, budget: nil) : nil
        var gatewayCodes: [String: Int64] = [:]
        var gatewayNames: [String] = []
        // Group by column codes first (cheap), then turn codes into strings once per group.
        // Codes are packed into one UInt64 (21 bits a key) when they fit; time keys as bucket
        // numbers since the epoch.
        let packable =
            groupBy.count <= 3
            && groupBy.allSatisfy { g in
                g.dimension?.column.map { view.dictionary($0).count < (1 << 21) - 1 } ?? true
            }
        func code(_ group: UsageGroup, _ i: Int) -> Int64 {
            group.isTime ? group.bucket(c.timestamps[i]) : Int64(group.dimension.map { c.code($0, i) } ?? 0)
        }
        // A key's codes are this segment's; its slot is the worker's (by the key's strings),
        // looked up once a segment for each key met.
        var slots: [UInt64: Int] = [:]
        var local: [[Int64]: UsageAggregate] = [:]
        var key = [Int64](repeating: 0, count: groupBy.count)
        // Keys that are all dictionary columns with few combinations (team × model: a few
        // hundred) index a dense table of slots: no hashing per record.
        let widths = groupBy.map { g in g.dimension?.column.map { view.dictionary($0).count + 1 } ?? 0 }
        let denseSize = widths.reduce(1) { $0 == 0 || $1 == 0 ? 0 : $0.multipliedReportingOverflow(by: $1).overflow ? 0 : $0 * $1 }
        let dense = denseSize > 0 && denseSize <= 1 << 16
        var denseSlots = [Int32](repeating: -1, count: dense ? denseSize : 0)
        func values(_ codes: [Int64]) -> [String?] {
            groupBy.enumerated().map { k, group in
                if group.isTime { return bucketText(codes[k]) }
                if group == .gateway { return codes[k] > 0 && Int(codes[k]) <= gatewayNames.count ? gatewayNames[Int(codes[k]) - 1] : nil }
                return group.dimension.flatMap { view.string($0, code: UInt32(codes[k])) }
            }
        }
        /// The worker's slot of the key at `index` of the dense table, found by the key's strings
        /// the first time this segment meets it.
        func denseSlot(_ index: Int, _ codes: () -> [Int64]) -> Int {
            if denseSlots[index] < 0 { denseSlots[index] = Int32(groups.slot(values(codes()))) }
            return Int(denseSlots[index])
        }
        var ordinals: [Int] = []
        ordinals.reserveCapacity(c.count)
        predicate.collect(c, 0..<c.count, window: window, into: &ordinals)
        if dense, fetcher == nil, columns.isEmpty,
            case let keyColumns = groupBy.compactMap({ g in g.dimension?.column.map { c.dims[$0] } }), keyColumns.count == groupBy.count
        {
            // The common case (team × model): every key a dictionary column, no record read, no
            // per-group detail. A record's slot is one lookup in the dense table.
            for i in ordinals {
                var index = 0
                for k in keyColumns.indices {
                    let code = Int(keyColumns[k][i])
                    index = index >= 0 && code < widths[k] ? index * widths[k] + code : -1
                }
                if index < 0 {
                    // A code past its dictionary (a damaged index): keyed by its codes.
                    local[keyColumns.map { Int64($0[i]) }, default: UsageAggregate()].add(c, i)
                    continue
                }
                let slot = denseSlot(index) { keyColumns.map { Int64($0[i]) } }
                groups.aggregates[slot].add(c, i)
            }
            ordinals = []  // all summed: the general loop below has none left
        }
        for i in ordinals {
            var gateway: Int64 = 0
            if let fetcher {
                let event = try fetcher.event(at: i)
                if !predicate.residual.matches(event) { continue }
                if byGateway, let name = event.gateway {
                    if let known = gatewayCodes[name] {
                        gateway = known
                    } else {
                        gatewayNames.append(name)
                        gateway = Int64(gatewayNames.count)
                        gatewayCodes[name] = gateway
                    }
                }
            }
            for (k, group) in groupBy.enumerated() { key[k] = group == .gateway ? gateway : code(group, i) }
            if !columns.isEmpty { codeDetails.add(key, c, i, columns) }
            var index = dense ? 0 : -1
            if dense {
                for (k, width) in widths.enumerated() {
                    // A code past its dictionary (a damaged index) takes the general path.
                    guard key[k] >= 0 && key[k] < Int64(width) else {
                        index = -1
                        break
                    }
                    index = index * width + Int(key[k])
                }
            }
            if index >= 0 {
                let slot = denseSlot(index) { key }
                groups.aggregates[slot].add(c, i)
            } else if packable {
                var packed: UInt64 = 0
                for (k, group) in groupBy.enumerated() {
                    let v = group.isTime ? UInt64(key[k] / group.packingUnit) : UInt64(key[k])
                    packed = packed << 21 | (v & 0x1F_FFFF)
                }
                let slot: Int
                if let existing = slots[packed] {
                    slot = existing
                } else {
                    slot = groups.slot(values(key))
                    slots[packed] = slot
                }
                groups.aggregates[slot].add(c, i)
            } else {
                local[key, default: UsageAggregate()].add(c, i)
            }
        }
        for (codes, aggregate) in local { groups.aggregates[groups.slot(values(codes))].merge(aggregate) }
        for (codes, found) in codeDetails.byKey { groups.details[values(codes), default: UsageDetail()].merge(found.strings(view)) }
    }
}
