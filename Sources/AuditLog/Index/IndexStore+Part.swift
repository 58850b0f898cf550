extension IndexStore {
    /// What can be loaded of a sealed segment's index, each part on its own.
    enum Part: Hashable, Sendable {
        case timestamps, verdicts, cacheHits, metrics, dimension(Dimension), ids, rollups, hourlyRollups
        /// The dimensions' dictionaries: loaded with the parts that need them (a dimension
        /// column, rollups), not for a query that tests only verdicts or times.
        case dictionaries

        var isColumn: Bool {
            switch self {
            case .ids, .rollups, .hourlyRollups, .dictionaries: false
            default: true
            }
        }

        /// Whether the part is one of the rollups (which a checkpoint of the active segment lacks).
        var isRollup: Bool { self == .rollups || self == .hourlyRollups }

        /// Whether the index cache may drop it: the columns, the id table and the rollups (the
        /// frames and dictionaries stay while the segment's entry does).
        var isEvictable: Bool { self != .dictionaries }

        /// Whether the part is read through the dictionaries (its codes name their values).
        var needsDictionaries: Bool {
            switch self {
            case .dimension, .rollups, .hourlyRollups: true
            default: false
            }
        }

        /// `parts` with the dictionaries when one of them needs them.
        static func closure(_ parts: Set<Part>) -> Set<Part> {
            parts.contains { $0.needsDictionaries } ? parts.union([.dictionaries]) : parts
        }

        /// `parts` in the order they load: the dictionaries before the parts that need them.
        static func loadOrder(_ parts: Set<Part>) -> [Part] {
            parts.contains(.dictionaries) ? [.dictionaries] + parts.filter { $0 != .dictionaries } : Array(parts)
        }

        static let all: Set<Part> = Set([.timestamps, .verdicts, .cacheHits, .metrics, .ids, .rollups, .hourlyRollups, .dictionaries] + Dimension.columns.map { .dimension($0) })

        /// The column holding an event field, nil when the field has none (filters on it are
        /// checked on the decoded event).
        static func column(forField field: String) -> Part? {
            switch field {
            case "verdict": .verdicts
            case "cache_hit": .cacheHits
            default: Dimension(name: field).map { .dimension($0) }
            }
        }
    }
}
