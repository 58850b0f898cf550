/// The fields events are filtered and grouped by without being decoded: the one list behind
/// an index's dictionary columns, its rollup tables, filters and ``UsageGroup``.
///
/// The on-disk codes are fixed by docs/FORMAT.md: ``column`` is the order of the dictionary
/// columns (index sections 5–12), ``rollupCode`` the dimension byte of a rollup row (0 is the
/// segment total).
enum Dimension: CaseIterable, Sendable {
    case eventType, reasonCode, user, team, model, provider, apiKey, source, verdict

    /// The dimensions an index keeps as dictionary-encoded string columns, in section order.
    static let columns: [Dimension] = [.eventType, .reasonCode, .user, .team, .model, .provider, .apiKey, .source]

    /// The dimensions an index keeps rollups for, in code order (codes 1–9; an index of format
    /// version 1 has only the first six, ``rolledUpInVersion1``).
    static let rolledUp: [Dimension] = [.user, .team, .model, .provider, .apiKey, .verdict, .reasonCode, .source, .eventType]

    /// The rollup dimensions of an index of format version 1 (codes 1–6).
    static let rolledUpInVersion1: [Dimension] = Array(rolledUp.prefix(6))

    /// The position of the dictionary column in ``columns``, nil for ``verdict`` (a column of
    /// codes). A switch, not a search: it is asked once per record in column scans.
    var column: Int? {
        switch self {
        case .eventType: 0
        case .reasonCode: 1
        case .user: 2
        case .team: 3
        case .model: 4
        case .provider: 5
        case .apiKey: 6
        case .source: 7
        case .verdict: nil
        }
    }

    /// The rollup dimension byte (its position in ``rolledUp`` + 1), nil when no rollup is kept.
    var rollupCode: UInt8? {
        switch self {
        case .user: 1
        case .team: 2
        case .model: 3
        case .provider: 4
        case .apiKey: 5
        case .verdict: 6
        case .reasonCode: 7
        case .source: 8
        case .eventType: 9
        }
    }

    /// The dimension of a rollup code (0, the total, is none).
    init?(rollupCode: UInt8) {
        guard rollupCode >= 1, Int(rollupCode) <= Self.rolledUp.count else { return nil }
        self = Self.rolledUp[Int(rollupCode) - 1]
    }

    /// The event field, nil for ``eventType`` (part of every record's header).
    var field: EventField? {
        switch self {
        case .eventType: nil
        case .reasonCode: .reasonCode
        case .user: .user
        case .team: .team
        case .model: .model
        case .provider: .provider
        case .apiKey: .apiKey
        case .source: .source
        case .verdict: .verdict
        }
    }

    /// The JSON name.
    var name: String { field?.jsonName ?? "event_type" }

    /// The dimension a JSON name names, if any.
    init?(name: String) {
        guard let dimension = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = dimension
    }

    /// The event's value.
    func value(of event: AuditEvent) -> String? {
        switch self {
        case .eventType: event.eventType
        case .verdict: event.verdict?.rawValue
        default: field.flatMap { event[string: $0] }
        }
    }
}
