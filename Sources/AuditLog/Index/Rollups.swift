/// The rollup tables of a segment, computed from its index columns when its index is written.
extension IndexData {
    /// Computes the rollup tables from the columns: each record's contribution once, then per
    /// dimension a pass adding it into arrays indexed by value code (and hour), no hashing per
    /// record; then only the non-empty rows as a table. The hourly rows of a dimension with
    /// fewer than ``recordsPerHourlyRow`` records a row are left out (a first pass counts them),
    /// the total's never; `minRecordsPerHourlyRow` 0 keeps every hour (what writers of versions
    /// 1 and 2 wrote, for tests). Nil when a sum does not fit a rollup row
    /// (``UsageAggregate/fitsRollupRow``).
    static func rollups(
        _ c: IndexColumns, dictionarySizes: [Int], minRecordsPerHourlyRow: Int = recordsPerHourlyRow
    ) -> (rows: [RollupKey: UsageAggregate], hourlyMask: UInt16)? {
        let dimensions: [Dimension?] = [nil] + Dimension.rolledUp
        func size(_ d: Dimension?) -> Int { RollupKey.valueCount(d, dictionarySizes: dictionarySizes) }
        let hours = hourIndexes(c.timestamps)
        // Each record's contribution is made from the columns where it is added, once a
        // dimension: an array of them (72 bytes a record) cost more in fresh pages than that.
        var total = UsageAggregate()
        for i in 0..<c.count { total.addSums(UsageAggregate.Contribution(c, i)) }
        // The total row holds the largest sums: if it fits, every row does.
        guard total.fitsRollupRow else { return nil }
        // Rows are gathered first and made a table once, at its final size: a table grown row by
        // row rehashes and moves every row it holds each time it doubles.
        var rows: [(RollupKey, UsageAggregate)] = []
        var mask: UInt16 = 0
        // Each record's latency bucket (``noLatency`` when it has none), worked out once, and
        // the row each record went to in the current dimension's pass.
        let buckets = c.latencyMicros.map { $0 >= 0 ? LatencySketch.bucket($0) : noLatency }
        var rowOf = [Int](repeating: 0, count: c.count)
        let limit = minRecordsPerHourlyRow == 0 ? Int.max : c.count / minRecordsPerHourlyRow
        for dimension in dimensions {
            let n = size(dimension)
            let codes = dimension.map { d in d.column.map { c.dims[$0] } ?? c.verdicts.map(UInt32.init) } ?? [UInt32](repeating: 0, count: c.count)
            // The total has one row an hour; a dimension's rows are counted.
            let hourlyRows = dimension == nil ? hours.starts.count : distinctHourlyRows(codes, size: n, hourOf: hours.ordinals, inOrder: hours.inOrder, limit: limit)
            let hourly = dimension == nil || hourlyRows <= limit
            // Per hour: hour h, value v in slot h × n + v; in an array when it would be dense
            // enough, else (many values, each in few hours) in a table of the slots used.
            let slots = n * hours.starts.count
            let dense = hourly && slots <= 16 * hourlyRows + 65_536
            var perHour = [UsageAggregate](repeating: UsageAggregate(), count: dense ? slots : 0)
            // The sparse slots' rows, and where each slot's row is.
            var sparseRows: [UsageAggregate] = []
            var sparseSlots: [Int] = []
            var sparse: [Int: Int] = [:]
            var allTime = [UsageAggregate](repeating: UsageAggregate(), count: n)
            for i in 0..<c.count {
                let one = UsageAggregate.Contribution(c, i)
                let value = Int(codes[i])
                guard hourly else {
                    allTime[value].addSums(one)
                    rowOf[i] = value
                    continue
                }
                let slot = Int(hours.ordinals[i]) * n + value
                if dense {
                    perHour[slot].addSums(one)
                    rowOf[i] = slot
                } else if let row = sparse[slot] {
                    sparseRows[row].addSums(one)
                    rowOf[i] = row
                } else {
                    sparse[slot] = sparseRows.count
                    rowOf[i] = sparseRows.count
                    var row = UsageAggregate()
                    row.addSums(one)
                    sparseRows.append(row)
                    sparseSlots.append(slot)
                }
            }
            if !hourly {
                fillSketches(&allTime, rowOf: rowOf, buckets: buckets)
            } else if dense {
                fillSketches(&perHour, rowOf: rowOf, buckets: buckets)
            } else {
                fillSketches(&sparseRows, rowOf: rowOf, buckets: buckets)
            }
            if hourly {
                mask |= 1 << (dimension?.rollupCode ?? 0)
                // An hourly row is also merged into its value's row over the segment: once an
                // hour rather than once a record.
                func hourRow(_ slot: Int, _ a: UsageAggregate) {
                    allTime[slot % n].merge(a)
                    rows.append((RollupKey(dimension: dimension, value: UInt32(slot % n), hourNanos: hours.starts[slot / n]), a.compacted()))
                }
                // By index, not `enumerated()`: that copies every slot (its sketch retained and
                // released), and most dense slots are empty.
                for slot in perHour.indices where perHour[slot].requests > 0 { hourRow(slot, perHour[slot]) }
                for row in sparseRows.indices { hourRow(sparseSlots[row], sparseRows[row]) }
            }
            for value in allTime.indices where allTime[value].requests > 0 {
                rows.append((RollupKey(dimension: dimension, value: UInt32(value), hourNanos: RollupKey.allTime), allTime[value].compacted()))
            }
        }
        var out = [RollupKey: UsageAggregate](minimumCapacity: rows.count)
        // Moved out, not iterated: iterating copies each row before the table copies it again.
        while let (key, row) = rows.popLast() { out[key] = row }
        return (out, mask)
    }

    /// The bucket of a record without a latency, above every real one.
    private static let noLatency = UInt16.max

    /// Gives each of `rows` (whose sums are complete) its sketch of the latency buckets of the
    /// records `rowOf` maps to it, each made once at its exact span: the records' buckets are
    /// grouped by row (a counting sort on the rows' latency counts), then each row's counted in
    /// a histogram over its span. Adding record by record into a growing sketch per row (one
    /// per hour and value, in every dimension) made and regrew thousands of small arrays with
    /// slack that ``LatencySketch/compacted()`` then copied away.
    private static func fillSketches(_ rows: inout [UsageAggregate], rowOf: [Int], buckets: [UInt16]) {
        var starts = [Int](repeating: 0, count: rows.count + 1)
        for r in rows.indices { starts[r + 1] = starts[r] + Int(rows[r].latencyCount) }
        guard let total = starts.last, total > 0 else { return }
        var grouped = [UInt16](repeating: 0, count: total)
        var next = starts
        grouped.withUnsafeMutableBufferPointer { grouped in
            next.withUnsafeMutableBufferPointer { next in
                for (i, bucket) in buckets.enumerated() where bucket != noLatency {
                    let r = rowOf[i]
                    grouped[next[r]] = bucket
                    next[r] += 1
                }
            }
        }
        var histogram = [UInt64](repeating: 0, count: LatencySketch.maxBucket + 1)
        for r in rows.indices where starts[r + 1] > starts[r] {
            var low = Int.max
            var high = 0
            for j in starts[r]..<starts[r + 1] {
                let b = Int(grouped[j])
                histogram[b] += 1
                low = min(low, b)
                high = max(high, b)
            }
            rows[r].sketch = LatencySketch(base: low, exactSpan: Array(histogram[low...high]))
            for b in low...high { histogram[b] = 0 }
        }
    }

    /// The distinct UTC hours of `timestamps` (their starts, in first-seen order), each
    /// record's position among them, and whether no hour comes back once the records have left
    /// it (records in time order, as far as hours go).
    private static func hourIndexes(_ timestamps: [Int64]) -> (starts: [Int64], ordinals: [UInt32], inOrder: Bool) {
        var inOrder = true
        var starts: [Int64] = []
        var index: [Int64: UInt32] = [:]
        var ordinals = [UInt32](repeating: 0, count: timestamps.count)
        var lastHour = Int64.min
        var last: UInt32 = 0
        for (i, ts) in timestamps.enumerated() {
            let hour = ts - ts % hourNanos
            if hour != lastHour {
                if let known = index[hour] {
                    // Back to an hour the records had left.
                    inOrder = false
                    last = known
                } else {
                    last = UInt32(starts.count)
                    index[hour] = last
                    starts.append(hour)
                }
                lastHour = hour
            }
            ordinals[i] = last
        }
        return (starts, ordinals, inOrder)
    }

    /// How many (hour, value) rows the value `codes` make (counted up to one past `limit`):
    /// per value, the last hour it was counted in; `inOrder` as ``hourIndexes(_:)`` says it.
    private static func distinctHourlyRows(_ codes: [UInt32], size: Int, hourOf: [UInt32], inOrder: Bool, limit: Int) -> Int {
        var seenIn = [UInt32](repeating: .max, count: size)
        var seen = Set<UInt64>()
        var rows = 0
        for (i, code) in codes.enumerated() {
            let value = Int(code)
            let hour = hourOf[i]
            if seenIn[value] == hour { continue }
            seenIn[value] = hour
            // In time order an hour once left never comes back, so a value met in another hour
            // is a new row. Records need not be in time order, though: out of it, a value may
            // come back to an hour it left, and the pairs seen are kept.
            if inOrder || seen.insert(UInt64(hour) << 32 | UInt64(value)).inserted {
                rows += 1
                // Past the limit the count no longer matters.
                if rows > limit { return rows }
            }
        }
        return rows
    }
}
