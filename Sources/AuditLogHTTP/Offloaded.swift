import AuditLog
import Dispatch

/// Runs CPU-heavy work (parsing a large request body) on a Dispatch queue instead of the
/// cooperative pool, which on a two-core machine has two threads: a few large bodies parsed
/// there would keep every other request, `/healthz` included, from running.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(AuditLogError) -> T) async throws(AuditLogError) -> T {
    let result: Result<T, AuditLogError> = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            do throws(AuditLogError) {
                continuation.resume(returning: .success(try work()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    }
    return try result.get()
}
