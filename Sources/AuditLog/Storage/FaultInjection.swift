#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// I/O faults on purpose, for the reliability tests (docs/RELIABILITY.md): every write, sync,
/// truncate, create, rename and unlink of ``SystemFile`` asks here first whether to fail.
///
/// In production nothing is ever armed, and the whole cost is one relaxed atomic load per
/// system call that changes the disk. Rules match a path fragment (a test's own directory), so
/// tests running in parallel do not see each other's faults. Not API: SPI for the test suite
/// and its crash harness (`@_spi(Testing) import AuditLog`).
@_spi(Testing)
public enum FaultInjection {
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case write, sync, truncate, create, rename, remove, syncDirectory
    }

    public enum Fault: Sendable, Hashable {
        /// The call fails with this errno (`EIO`, `ENOSPC`, …) and changes nothing.
        case fail(Int32)
        /// A write stores the first half of its bytes, then fails with this errno.
        case shortWrite(Int32)
        /// The process kills itself with SIGKILL instead of making the call (crash tests).
        case crash
    }

    public struct Rule: Sendable {
        public var operation: Operation
        /// Only paths containing this…
        public var path: String
        /// …and ending with this.
        public var suffix: String
        /// Matching calls that pass before the first fault.
        public var after: Int
        /// Faults to inject before the rule retires itself; nil: until ``clear(path:)``.
        public var times: Int?
        public var fault: Fault
        var seen = 0
        var injected = 0

        public init(operation: Operation, path: String, suffix: String = "", after: Int = 0, times: Int? = 1, fault: Fault) {
            self.operation = operation
            self.path = path
            self.suffix = suffix
            self.after = after
            self.times = times
            self.fault = fault
        }
    }

    private static let armed = Atomic<Bool>(false)
    private static let rules = Locked<[Rule]>([])
    private static let injectedTotal = Atomic<Int>(0)

    /// Adds a rule.
    public static func inject(_ rule: Rule) {
        rules.withLock { $0.append(rule) }
        armed.store(true, ordering: .releasing)
    }

    /// Removes the rules for paths containing `path` (every rule when nil).
    public static func clear(path: String? = nil) {
        rules.withLock { r in
            r.removeAll { path == nil || $0.path == path }
            armed.store(!r.isEmpty, ordering: .releasing)
        }
    }

    /// Faults injected since the process started.
    public static var injectedCount: Int { injectedTotal.load(ordering: .relaxed) }

    /// The fault for this call, if a rule says so.
    @inline(__always)
    static func fault(_ operation: Operation, _ path: String) -> Fault? {
        guard armed.load(ordering: .relaxed) else { return nil }
        return match(operation, path)
    }

    private static func match(_ operation: Operation, _ path: String) -> Fault? {
        rules.withLock { r -> Fault? in
            guard let i = r.firstIndex(where: { $0.operation == operation && path.contains($0.path) && path.hasSuffix($0.suffix) }) else { return nil }
            r[i].seen += 1
            guard r[i].seen > r[i].after else { return nil }
            r[i].injected += 1
            let fault = r[i].fault
            if let times = r[i].times, r[i].injected >= times { r.remove(at: i) }
            _ = injectedTotal.add(1, ordering: .relaxed)
            if fault == .crash { _ = kill(getpid(), SIGKILL) }
            return fault
        }
    }

    /// The errno of a fault (for building the error a real failure would give).
    static func errno(of fault: Fault) -> Int32 {
        switch fault {
        case .fail(let code), .shortWrite(let code): code
        case .crash: EIO
        }
    }
}
