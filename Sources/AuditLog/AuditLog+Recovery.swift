/// The `log.recovered` records: a writer that cut a torn tail says so in the chain itself.
extension AuditLog {
    /// Appends a `log.recovered` record for every kept cut file no such record names yet: the
    /// ones this open cut, and any a crash left between cutting and recording (docs/FORMAT.md,
    /// "Reading and recovery").
    func recordRecoveries() async throws(AuditLogError) {
        let files = self.files
        let kept = try await BlockingIO.run { () throws(AuditLogError) in try files.keptFiles() }
        guard !kept.isEmpty else { return }
        let recorded = Set(try await recoveryRecords().map(\.file))
        for name in kept where !recorded.contains(LogDirectory.displayName(name)) {
            let report = recovery.first { $0.keptFile == LogDirectory.displayName(name) }
            let facts = try await BlockingIO.run { () throws(AuditLogError) in try Self.describeKept(name, in: files) }
            var event = AuditEvent(eventType: TornTailRecovery.eventType, timestamp: .now)
            event.resource = "log:\(logID)"
            event.reasonCode = "torn_tail"
            let firstSeq = report?.firstSeq ?? facts.firstSeq
            let lastSeq = report != nil ? report?.lastSeq : facts.lastSeq
            event.details = .object([
                JSONMember("first_seq", firstSeq.map { .integer($0.rawValue) } ?? .null),
                JSONMember("last_seq", lastSeq.map { .integer($0.rawValue) } ?? .null),
                JSONMember("bytes", .integer(facts.bytes)),
                JSONMember("sha256", .string(facts.sha256)),
                JSONMember("file", .string(LogDirectory.displayName(name))),
                JSONMember("segment", .string(LogDirectory.displayName(String(name.prefix(24))))),
                JSONMember("offset", .integer(facts.offset)),
                JSONMember("reason", .string(report?.reason ?? "cut by a writer that stopped before recording it")),
            ])
            _ = try await append([event], origin: .log)
            LibraryLog.warning("a torn tail was cut and recorded", ["directory": directory, "kept": LogDirectory.displayName(name), "bytes": String(facts.bytes)])
        }
    }

    /// Bytes, SHA-256, offset and seqs of a kept cut file.
    fileprivate static func describeKept(_ name: String, in files: LogDirectory) throws(AuditLogError) -> (
        bytes: Int64, sha256: String, offset: Int64, firstSeq: SequenceNumber?, lastSeq: SequenceNumber?
    ) {
        let bytes = try files.open(name).readAll()
        let n = bytes.count
        let facts = TornTailRecovery.describe(bytes)
        let suffix = name.dropFirst(24 + LogDirectory.keptInfix.count)
        let offset = Int64(suffix.prefix { $0 != "-" }) ?? 0
        return (Int64(n), facts.sha256, offset, facts.firstSeq, facts.lastSeq)
    }

    /// The `log.recovered` records in the log, oldest first, each with whether its kept file is
    /// still there with the same bytes.
    package func recoveryRecords() async throws(AuditLogError) -> [RecoveryRecord] {
        let recoveries = Query(filter: EventFilter(fields: ["event_type": [TornTailRecovery.eventType]]), order: .oldestFirst)
        let files = self.files
        return try await reading(recoveries) { (iterator) throws(AuditLogError) in
            var out: [RecoveryRecord] = []
            while let record = try iterator.next() {
                let d = record.event.details
                func seq(_ key: String) -> SequenceNumber? {
                    guard case .number(let text)? = d?[key], let v = UInt64(text) else { return nil }
                    return SequenceNumber(v)
                }
                var bytes: Int64 = 0
                if case .number(let text)? = d?["bytes"] { bytes = Int64(text) ?? 0 }
                let file = d?["file"]?.stringValue ?? ""
                let sha = d?["sha256"]?.stringValue ?? ""
                var kept = RecoveryRecord.KeptState.missing
                let name = String(file.dropFirst("segments/".count))
                if file.hasPrefix("segments/"), !name.contains("/"), files.exists(name) {
                    kept = (try? AuditLog.describeKept(name, in: files))?.sha256 == sha ? .intact : .altered
                }
                out.append(RecoveryRecord(seq: record.seq, time: record.event.timestamp, firstSeq: seq("first_seq"), lastSeq: seq("last_seq"), bytes: bytes, sha256: sha, file: file, kept: kept))
            }
            return out
        }
    }
}
