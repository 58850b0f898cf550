/// `Duration` arithmetic on timestamps, saturating at the ends of the 64-bit nanosecond range
/// instead of trapping.
extension Timestamp {
    /// The instant `duration` after `timestamp`.
    public static func + (timestamp: Timestamp, duration: Duration) -> Timestamp {
        Timestamp(nanosSinceEpoch: saturatingAdd(timestamp.nanosSinceEpoch, duration.nanoseconds))
    }

    /// The instant `duration` before `timestamp`.
    public static func - (timestamp: Timestamp, duration: Duration) -> Timestamp {
        let nanos = duration.nanoseconds
        return Timestamp(nanosSinceEpoch: saturatingAdd(timestamp.nanosSinceEpoch, nanos == .min ? .max : -nanos))
    }

    private static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }
}

extension Duration {
    /// Whole nanoseconds, rounded toward zero and clamped to `Int64`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds > 0 ? .max : .min }
        let (sum, overflowed) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        guard !overflowed else { return seconds > 0 ? .max : .min }
        return sum
    }
}

/// The spans audit questions are asked in ("the last hour", "90 days"), beside the standard
/// library's `.seconds(_:)` and `.milliseconds(_:)`.
extension Duration {
    /// `minutes` minutes.
    public static func minutes(_ minutes: Int64) -> Duration { seconds(minutes, times: 60) }
    /// `hours` hours.
    public static func hours(_ hours: Int64) -> Duration { seconds(hours, times: 3_600) }
    /// `days` days of 24 hours.
    public static func days(_ days: Int64) -> Duration { seconds(days, times: 86_400) }

    /// `count × unit` seconds, clamped to the `Int64` range rather than trapping.
    private static func seconds(_ count: Int64, times unit: Int64) -> Duration {
        let (product, overflow) = count.multipliedReportingOverflow(by: unit)
        return .seconds(overflow ? (count > 0 ? Int64.max : Int64.min) : product)
    }
}
