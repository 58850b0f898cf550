import Foundation

/// Realistic synthetic gateway traffic for demos, tests and benchmarks (`auditlog gen`).
///
/// About 500 users in 20 teams (a few heavy users, a long tail), 12 models from 4 providers
/// with real list prices, verdicts ≈ 90% allow, 5% redact, 4% block, 1% escalate, prompt
/// caching, reasoning tokens, policies and redactions where they fired, and about 0.2%
/// administrative events. Times run from `end - days` to `end`, mostly in order, with 1% of
/// events up to five minutes late. The same seed gives the same events.
package struct EventGenerator: Sendable {
    struct Model {
        let name: String
        let provider: String
        /// Nano-dollars per token: input, cached input, output.
        let input: Int64
        let cached: Int64
        let output: Int64
        let reasons: Bool
        let weight: Double
    }

    static let models: [Model] = [
        Model(name: "gpt-4o", provider: "openai", input: 2_500, cached: 1_250, output: 10_000, reasons: false, weight: 20),
        Model(name: "gpt-4o-mini", provider: "openai", input: 150, cached: 75, output: 600, reasons: false, weight: 16),
        Model(name: "gpt-4.1", provider: "openai", input: 2_000, cached: 500, output: 8_000, reasons: false, weight: 8),
        Model(name: "o3-mini", provider: "openai", input: 1_100, cached: 550, output: 4_400, reasons: true, weight: 5),
        Model(name: "claude-sonnet-4", provider: "anthropic", input: 3_000, cached: 300, output: 15_000, reasons: false, weight: 18),
        Model(name: "claude-3-5-haiku", provider: "anthropic", input: 800, cached: 80, output: 4_000, reasons: false, weight: 7),
        Model(name: "claude-opus-4", provider: "anthropic", input: 15_000, cached: 1_500, output: 75_000, reasons: true, weight: 3),
        Model(name: "gemini-2.5-pro", provider: "google", input: 1_250, cached: 310, output: 10_000, reasons: true, weight: 6),
        Model(name: "gemini-2.5-flash", provider: "google", input: 300, cached: 75, output: 2_500, reasons: false, weight: 7),
        Model(name: "gemini-2.0-flash", provider: "google", input: 100, cached: 25, output: 400, reasons: false, weight: 4),
        Model(name: "mistral-large", provider: "mistral", input: 2_000, cached: 2_000, output: 6_000, reasons: false, weight: 3),
        Model(name: "codestral", provider: "mistral", input: 300, cached: 300, output: 900, reasons: false, weight: 3),
    ]

    static let teams = [
        "payments", "platform", "search", "growth", "mobile", "data", "ml-research", "security",
        "infra", "support", "design", "web", "identity", "billing", "risk", "ads", "marketplace",
        "devex", "analytics", "legal",
    ]
    static let firstNames = [
        "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
        "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yusuf", "zoe",
        "amir", "bea", "chen", "dana",
    ]
    static let blockReasons = ["prompt_injection_detected", "jailbreak_attempt", "model_not_allowed", "budget_exceeded", "secret_in_prompt"]
    static let redactReasons = ["pii_email", "secret_api_key", "pii_phone_number", "credit_card_number"]
    static let escalateReasons = ["sensitive_data_export", "unusual_volume"]
    static let sources = ["ide", "ide", "ide", "cli", "web", "ci", "sdk"]
    static let gateways = ["gw-eu-1", "gw-us-1", "gw-us-2"]
    static let userAgents = ["Workjet Desktop/1.2.0", "workjet-cli/0.9.4", "Mozilla/5.0 (Macintosh) Chrome/131", "python-httpx/0.27", "VSCode-Workjet/2.3.1"]
    static let adminActions = ["model.enabled", "model.disabled", "api_key.created", "api_key.revoked", "policy.updated", "user.role_changed"]

    private var rng: SplitMix64
    private let count: Int
    private let startNanos: Int64
    private let spanNanos: Int64
    private var index = 0
    private let cumulativeModelWeights: [Double]

    /// A generator of `count` events ending at `end`, spread over `days`.
    package init(seed: UInt64, count: Int, days: Double, end: Timestamp) {
        rng = SplitMix64(seed: seed)
        self.count = max(0, count)
        spanNanos = Int64(max(0, days) * 86_400e9)
        startNanos = max(0, end.nanosSinceEpoch - spanNanos)
        var total = 0.0
        cumulativeModelWeights = Self.models.map {
            total += $0.weight; return total
        }
    }

    /// The default end: the start of the current UTC hour, so runs in the same hour repeat
    /// byte for byte and "the last hour" still holds recent events.
    package static var defaultEnd: Timestamp {
        let now = Timestamp.now.nanosSinceEpoch
        return Timestamp(nanosSinceEpoch: now - now % 3_600_000_000_000)
    }

    /// The next event, or nil after `count`.
    package mutating func next() -> AuditEvent? {
        guard index < count else { return nil }
        let i = index
        index += 1
        var ts = startNanos + (count > 1 ? Int64(Double(spanNanos) * Double(i) / Double(count)) : 0)
        ts += Int64(rng.below(1_000_000_000))  // sub-second spread
        if rng.unit() < 0.01 { ts = max(0, ts - Int64(rng.below(300)) * 1_000_000_000) }  // late
        ts -= ts % 1_000_000  // millisecond precision, as gateways send
        let userIndex = Int(Double(500) * pow(rng.unit(), 2.2))
        let user = "\(Self.firstNames[userIndex % Self.firstNames.count]).\(userIndex)@acme.com"
        let team = Self.teams[(userIndex * 7 + userIndex / 13) % Self.teams.count]
        var event = AuditEvent(eventType: "decision", timestamp: Timestamp(nanosSinceEpoch: ts))
        event.id = EventID.make(timestampNanos: ts, using: &rng)
        event.user = user
        event.team = team
        event.source = Self.sources[rng.below(Self.sources.count)]
        event.gateway = Self.gateways[rng.below(Self.gateways.count)]
        event.configVersion = "0.2.\(rng.below(4))"
        event.requestID = "req_" + String(rng.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        event.ip = "203.0.113.\(userIndex % 250 + 1)"

        if rng.unit() < 0.002 {
            let action = Self.adminActions[rng.below(Self.adminActions.count)]
            event.eventType = action
            event.user = "admin.\(rng.below(5))@acme.com"
            let model = Self.models[rng.below(Self.models.count)]
            event.resource = action.hasPrefix("model") ? "model:\(model.name)" : action.hasPrefix("api_key") ? "api_key:key_\(team)_\(rng.below(9))" : "\(action.split(separator: ".")[0]):\(team)"
            event.details = .object([
                JSONMember("old", .object([JSONMember("enabled", .bool(action.hasSuffix("enabled") ? false : true))])),
                JSONMember("new", .object([JSONMember("enabled", .bool(action.hasSuffix("enabled")))])),
            ])
            event.userAgent = "workjet-admin/1.4.0"
            return event
        }

        let pick = rng.unit() * (cumulativeModelWeights.last ?? 1)
        let model = Self.models[cumulativeModelWeights.firstIndex { pick < $0 } ?? 0]
        event.model = model.name
        event.provider = model.provider
        event.apiKey = "key_\(team)_\(userIndex % 3)"
        event.sessionID = "ses_" + String(rng.next() & 0xFF_FFFF, radix: 16)
        event.userAgent = Self.userAgents[userIndex % Self.userAgents.count]

        let roll = rng.unit()
        let verdict: Verdict = roll < 0.90 ? .allow : roll < 0.95 ? .redact : roll < 0.99 ? .block : .escalate
        event.verdict = verdict
        let tokensIn = Int64(exp(6.2 + 1.1 * gaussian()).rounded()).clamped(to: 5...200_000)
        switch verdict {
        case .block:
            let reason = Self.blockReasons[rng.below(Self.blockReasons.count)]
            event.reasonCode = reason
            event.policies = [PolicyDecision(name: "block-" + reason.split(separator: "_")[0], kind: reason, phase: "input", verdict: "block", reason: reason)]
            event.tokensIn = tokensIn
            event.tokensOut = 0
            event.cost = Cost(nanodollars: 0)
            event.latencyMicros = Int64(5 + rng.below(40)) * 1_000
            event.cacheHit = false
            return event
        case .redact:
            let reason = Self.redactReasons[rng.below(Self.redactReasons.count)]
            event.reasonCode = reason
            let kind = reason.replacingOccurrences(of: "pii_", with: "").replacingOccurrences(of: "secret_", with: "")
            event.policies = [PolicyDecision(name: "redact-pii", kind: "pii", phase: rng.unit() < 0.8 ? "input" : "output", verdict: "redact", reason: reason)]
            event.redactions = [Redaction(kind: kind, replacement: "[REDACTED:\(kind)]")]
        case .escalate:
            let reason = Self.escalateReasons[rng.below(Self.escalateReasons.count)]
            event.reasonCode = reason
            event.policies = [PolicyDecision(name: "escalate-review", kind: "review", phase: "output", verdict: "escalate", reason: reason)]
        case .allow:
            break
        }
        if rng.unit() < 0.12 {
            // Served from the gateway's response cache: no provider call, no cost.
            event.cacheHit = true
            event.tokensIn = tokensIn
            event.tokensOut = 0
            event.tokensCached = 0
            event.cost = Cost(nanodollars: 0)
            event.latencyMicros = Int64(2 + rng.below(15)) * 1_000
            return event
        }
        let cached = rng.unit() < 0.35 ? tokensIn * Int64(20 + rng.below(70)) / 100 : 0
        let tokensOut = Int64(exp(5.6 + 0.9 * gaussian()).rounded()).clamped(to: 1...32_000)
        let reasoning = model.reasons ? Int64(rng.below(4_000)) : 0
        event.cacheHit = false
        event.tokensIn = tokensIn
        event.tokensOut = tokensOut
        event.tokensCached = cached
        event.tokensReasoning = reasoning
        event.cost = Cost(nanodollars: (tokensIn - cached) * model.input + cached * model.cached + (tokensOut + reasoning) * model.output)
        event.latencyMicros = Int64(150 + Int(tokensOut) * 2 + rng.below(1_500)) * 1_000 + Int64(rng.below(1_000))
        return event
    }

    private mutating func gaussian() -> Double {
        let u1 = max(rng.unit(), 1e-12)
        let u2 = rng.unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
