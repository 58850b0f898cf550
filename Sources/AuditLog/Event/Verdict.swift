/// What a gateway decided about a request.
public enum Verdict: String, Sendable, Hashable, CaseIterable, Codable {
    /// The request went through unchanged.
    case allow
    /// The request was refused.
    case block
    /// The request went through with parts removed.
    case redact
    /// The request was sent to a human or a stricter path.
    case escalate

    /// Every verdict: a stored array (`allCases` builds one per call; parsers look verdicts up
    /// per event).
    static let all: [Verdict] = allCases

    /// The raw value as a static string: written out without making a String.
    var text: StaticString {
        switch self {
        case .allow: "allow"
        case .block: "block"
        case .redact: "redact"
        case .escalate: "escalate"
        }
    }

    /// The byte stored in the record encoding (docs/FORMAT.md).
    var code: UInt8 {
        switch self {
        case .allow: 1
        case .block: 2
        case .redact: 3
        case .escalate: 4
        }
    }

    init?(code: UInt8) {
        switch code {
        case 1: self = .allow
        case 2: self = .block
        case 3: self = .redact
        case 4: self = .escalate
        default: return nil
        }
    }
}
