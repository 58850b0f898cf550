import AuditLog
import Foundation

/// A usage time series as a terminal bar chart (`auditlog usage --chart`): one bar a bucket
/// (a bucket and key value with a second key), scaled to the widest, drawn in Unicode eighth
/// blocks — or `#` when the terminal's locale is not UTF-8 or `TERM` is `dumb`.
enum BarChart {
    /// Whether the terminal takes Unicode blocks: the locale says UTF-8 and TERM is not dumb.
    static func unicode(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if environment["TERM"] == "dumb" { return false }
        let locale = environment["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LC_CTYPE"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["LANG"] ?? ""
        let lowered = locale.lowercased()
        return lowered.contains("utf-8") || lowered.contains("utf8")
    }

    /// The columns to draw in: `COLUMNS`, else 80.
    static func width(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment["COLUMNS"].flatMap(Int.init).map { max(40, $0) } ?? 80
    }

    /// The chart of `rows` (a series: `groupBy` has a time key) by `metric`.
    static func render(_ rows: [UsageRow], groupBy: [UsageGroup], metric: UsageOrder, unicode: Bool, width: Int) -> String {
        guard let t = groupBy.firstIndex(where: \.isTime) else { return "" }
        let time = groupBy[t]
        func value(_ r: UsageRow) -> Double {
            switch metric {
            case .cost: Double(r.cost.nanodollars) / 1e9
            case .requests: Double(r.requests)
            case .tokens: Double(r.tokens)
            }
        }
        func valueText(_ r: UsageRow) -> String {
            switch metric {
            case .cost: "$" + String(format: "%.2f", Double(r.cost.nanodollars) / 1e9)
            case .requests: String(r.requests)
            case .tokens: String(r.tokens)
            }
        }
        let labels = rows.map { r -> String in
            var label = bucketLabel(r.group[t] ?? "", time)
            for (k, v) in r.group.enumerated() where k != t { label += "  " + (v ?? "-") }
            return label
        }
        let labelWidth = labels.map(\.count).max() ?? 0
        let texts = rows.map(valueText)
        let valueWidth = texts.map(\.count).max() ?? 0
        let barWidth = max(10, width - labelWidth - valueWidth - 4)
        let top = rows.map(value).max() ?? 0
        var out = "\(metric.rawValue) by \(time.rawValue)\n"
        for (i, r) in rows.enumerated() {
            let eighths = top > 0 ? Int((value(r) / top * Double(barWidth * 8)).rounded()) : 0
            let bar = unicode ? blocks(eighths) : String(repeating: "#", count: (eighths + 4) / 8)
            let pad = String(repeating: " ", count: labelWidth - labels[i].count)
            let valuePad = String(repeating: " ", count: valueWidth - texts[i].count)
            out += labels[i] + pad + "  " + valuePad + texts[i] + "  " + bar + "\n"
        }
        return out
    }

    /// `eighths` eighths of a character cell: full blocks, then one partial block.
    private static func blocks(_ eighths: Int) -> String {
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    }

    /// A bucket start as people read it: `2026-03-20 14:00`, `2026-03-20`, `2026-W12`, `2026-03`.
    static func bucketLabel(_ rfc3339: String, _ group: UsageGroup) -> String {
        switch group {
        case .hour: return String(rfc3339.prefix(10)) + " " + String(rfc3339.dropFirst(11).prefix(5))
        case .month: return String(rfc3339.prefix(7))
        case .week:
            guard let t = Timestamp(rfc3339: rfc3339) else { return rfc3339 }
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
            let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: t.date)
            return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0) + " (" + String(rfc3339.prefix(10)) + ")"
        default: return String(rfc3339.prefix(10))
        }
    }
}
