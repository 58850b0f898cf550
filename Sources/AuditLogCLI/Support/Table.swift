/// Left-aligned text columns separated by two spaces.
enum Table {
    /// Widest cell shown; longer ones end in "…" (the data is whole in --json and export).
    static let maxCellCharacters = 64

    static func render(_ rows: [[String]]) -> String {
        let rows = rows.map { $0.map(truncated) }
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 { line += String(repeating: " ", count: widths[i] - cell.count + 2) }
            }
            out += line + "\n"
        }
        return out
    }
}

/// A cell cut to ``Table/maxCellCharacters``, with control characters shown as spaces so one
/// cell cannot break the table's lines.
func truncated(_ cell: String) -> String {
    var out = ""
    var n = 0
    for c in cell {
        if n == Table.maxCellCharacters {
            out.removeLast()
            out.append("…")
            return out
        }
        out.append(c.isNewline || c.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }) ? " " : c)
        n += 1
    }
    return out
}
