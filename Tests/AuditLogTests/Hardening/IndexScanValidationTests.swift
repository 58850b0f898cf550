import Foundation
import Testing

@testable import AuditLog

/// Indexing reads values by their bytes and checks a value as UTF-8 the first time it meets it:
/// a record with a value (or an id) that is not UTF-8 still stops the scan with an error that
/// names its seq, even when the same bytes come again later, and valid repeats index as before.
@Suite struct IndexScanValidationTests {
    @Test(arguments: ["user", "id"])
    func aValueThatIsNotUTF8IsCorruptionAtItsSeq(_ field: String) async throws {
        try await withTemporaryDirectory { dir in
            let bad: [UInt8] = [2, 0xFF, 0xFE]
            let user = field == "user" ? bad : FormatRulesTests.string("alice")
            let id = field == "id" ? bad : FormatRulesTests.string("id-2")
            let records = [
                FormatRulesTests.record(presence: EventField.user.mask, rest: FormatRulesTests.string("alice")),
                FormatRulesTests.record(presence: EventField.user.mask, id: id, rest: user),
                FormatRulesTests.record(presence: EventField.user.mask, id: FormatRulesTests.string("id-3"), rest: user),
            ]
            try FormatRulesTests.craftLog(dir, records: records)
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            do throws(AuditLogError) {
                for try await _ in reader.query(Query(filter: EventFilter(users: ["alice"]))) {}
                Issue.record("a record whose \(field) is not UTF-8 was indexed")
            } catch {
                #expect(error.code == .corruption, "\(error)")
                #expect(error.location.seq == SequenceNumber(2), "\(error)")
            }
            try await reader.close()
        }
    }

    @Test func repeatedValuesIndexAsTheirFirst() async throws {
        try await withTemporaryDirectory { dir in
            let names = ["alice", "bob", "alice", "", "bob", "a-much-longer-user-name@example.com", "alice", ""]
            let records = names.enumerated().map { i, name in
                FormatRulesTests.record(presence: EventField.user.mask, id: FormatRulesTests.string("id-\(i)"), rest: FormatRulesTests.string(name))
            }
            try FormatRulesTests.craftLog(dir, records: records)
            let reader = try await AuditLog.open(directory: dir, options: .readOnly)
            for name in Set(names) {
                var seqs: [UInt64] = []
                for try await r in reader.query(Query(filter: EventFilter(users: [name]))) { seqs.append(r.seq.rawValue) }
                let expected = names.indices.filter { names[$0] == name }.map { UInt64($0 + 1) }
                #expect(seqs.sorted() == expected, "\(name)")
            }
            try await reader.close()
        }
    }
}
