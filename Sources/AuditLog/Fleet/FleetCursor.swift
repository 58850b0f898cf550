/// The position of a fleet query in every node: `f1.<o|n>.<node>-<seq>.<node>-<seq>…`, the
/// last seq returned from each node (nodes not named start from their first record). It stays
/// valid while nodes append: each resumes after its own seq.
enum FleetCursor {
    static func encode(_ positions: [String: SequenceNumber], order: ReadOrder) -> String {
        (["f1", order == .newestFirst ? "n" : "o"] + positions.sorted { $0.key < $1.key }.map { "\($0.key)-\($0.value.rawValue)" }).joined(separator: ".")
    }

    static func decode(_ text: String?, order: ReadOrder) throws(AuditLogError) -> [String: SequenceNumber] {
        guard let text else { return [:] }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        func bad(_ why: String) -> AuditLogError {
            AuditLogError(.invalidArgument, "cursor '\(text)' is not one this fleet issued (\(why))", location: .init(field: "cursor"))
        }
        guard parts.count >= 2, parts[0] == "f1" else { throw bad("it does not start with f1.") }
        guard parts[1] == (order == .newestFirst ? "n" : "o") else { throw bad("it belongs to a query in the other order") }
        var positions: [String: SequenceNumber] = [:]
        for part in parts.dropFirst(2) {
            let pair = part.split(separator: "-")
            guard pair.count == 2, let seq = UInt64(pair[1]), seq >= 1 else { throw bad("'\(part)' is not node-seq") }
            positions[String(pair[0])] = SequenceNumber(seq)
        }
        return positions
    }
}
