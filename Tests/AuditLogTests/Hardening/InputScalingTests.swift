import Testing

@testable import AuditLog

#if canImport(Glibc)
    import Glibc
#endif

/// The outside probe's seventh finding: reading a JSON array was quadratic (each element's line
/// was counted from the start of the input): 40,000 events took 42.7 s against 0.32 s as
/// NDJSON. Not a timing target (those live in Benchmarks/): a check that the work grows
/// linearly, by the ratio of two sizes measured on the same thread.
@Suite(.serialized) struct InputScalingTests {
    static func arrayInput(_ count: Int) -> [UInt8] {
        var text = "[\n"
        for i in 0..<count {
            text += #"  {"event_type":"decision","timestamp":"2026-03-20T10:30:00Z","user":"u\#(i % 50)","tokens_in":\#(i)}"#
            text += i == count - 1 ? "\n]\n" : ",\n"
        }
        return Array(text.utf8)
    }

    /// CPU time of this thread spent reading every event of `input`.
    static func readSeconds(_ input: [UInt8]) throws -> Double {
        let start = threadCPUSeconds()
        let reader = EventInputReader(bytes: input)
        var n = 0
        while try reader.next() != nil { n += 1 }
        return threadCPUSeconds() - start
    }

    /// CPU time of this thread. Read into two words (`tv_sec`, `tv_nsec` on 64-bit Linux), not
    /// through `timespec`'s initializer and members: which C module defines `timespec` in a
    /// compile depends on the files sharing it, and its members are visible only through an
    /// import of that one (MemberImportVisibility) — a clean build found it in Dispatch's.
    static func threadCPUSeconds() -> Double {
        var words: (Int, Int) = (0, 0)
        withUnsafeMutableBytes(of: &words) { raw in
            guard let base = raw.baseAddress else { return }
            _ = clock_gettime(CLOCK_THREAD_CPUTIME_ID, base.assumingMemoryBound(to: timespec.self))
        }
        return Double(words.0) + Double(words.1) / 1e9
    }

    @Test func readingAJSONArrayGrowsLinearly() throws {
        let small = Self.arrayInput(4_000)
        let large = Self.arrayInput(16_000)
        _ = try Self.readSeconds(small)  // warm up
        let a = try Self.readSeconds(small)
        let b = try Self.readSeconds(large)
        // Linear work gives a ratio near 4, quadratic near 16.
        #expect(b / a < 9, "4,000 events: \(a) s, 16,000 events: \(b) s")
    }

    @Test func anErrorDeepInAnArrayNamesItsLine() throws {
        var input = Self.arrayInput(3_000)
        let marker = Array(#""tokens_in":2500}"#.utf8)
        let at = try #require(input.indices.first { input[$0...].starts(with: marker) })
        input.replaceSubrange(at..<(at + marker.count), with: Array(#""tokens_in":-1}"#.utf8))
        let reader = EventInputReader(bytes: input)
        do throws(AuditLogError) {
            while try reader.next() != nil {}
            Issue.record("a negative count was read")
        } catch {
            #expect(error.location.line == 2502 && error.location.field == "tokens_in", "\(error)")
        }
    }
}
