import AuditLog
import Crypto

/// One delivery: a CloudEvents 1.0 JSON document (structured mode), signed as Standard
/// Webhooks sign (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256
/// of "id.timestamp.body">`).
struct WebhookMessage: Sendable {
    /// The delivery id: the same for every attempt of one delivery, also after a restart, so a
    /// receiver drops repeats by it (`<subscription>.<seq>.<type>`, or
    /// `<subscription>.threshold.<n>.<window start>`).
    var id: String
    var type: WebhookEventType
    /// When the delivery's subject happened (the event's time, the window's end).
    var time: Timestamp
    /// The CloudEvents `data`.
    var data: JSONValue

    /// The CloudEvents document: `specversion`, `id`, `source`, `type`, `time`,
    /// `datacontenttype`, `data` (and `subject`).
    func body(source: String, subject: String?) -> [UInt8] {
        var members = [
            JSONMember("specversion", .string("1.0")),
            JSONMember("id", .string(id)),
            JSONMember("source", .string(source)),
            JSONMember("type", .string(type.cloudEventType)),
            JSONMember("time", .string(time.rfc3339)),
            JSONMember("datacontenttype", .string("application/json")),
        ]
        if let subject { members.append(JSONMember("subject", .string(subject))) }
        members.append(JSONMember("data", data))
        return Array(JSONValue.object(members).jsonText.utf8)
    }

    /// The `webhook-signature` value for `body` sent at `timestamp` (Unix seconds).
    static func signature(id: String, timestamp: Int64, body: [UInt8], key: SymmetricKey) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: key)
        return "v1," + Base64.encode(Array(mac))
    }
}
