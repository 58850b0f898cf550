import Dispatch

/// The one executor of the library's blocking work — `pread`, `fdatasync` (through the
/// writer's own queue), hashing and decoding whole frames — behind every async entry point, so
/// that none of it ever runs on the caller's executor (on two cores the cooperative pool has two
/// threads; one slow disk read there stalls every task of the process).
///
/// Dispatch's global concurrent queue: its threads are not the cooperative pool's, and several
/// reads proceed at once. (A queue of our own targeting it measured one extra thread hop per
/// call: a lookup by id went from 35 to 64 µs.) The adapters in this package use it too
/// (`package`).
package enum BlockingIO {
    private static let queue = DispatchQueue.global()

    /// Runs `work` on the executor and returns its result.
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws(AuditLogError) -> T) async throws(AuditLogError) -> T {
        let result: Result<T, AuditLogError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(AuditLogError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Runs non-throwing `work` on the executor.
    package static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
