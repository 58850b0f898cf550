import AuditLog

/// Runs blocking or CPU-heavy work (reading pages and exports, parsing a large request body)
/// on the library's I/O executor instead of the cooperative pool, which on a two-core machine
/// has two threads: a few large bodies parsed there would keep every other request, `/healthz`
/// included, from running.
func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(AuditLogError) -> T) async throws(AuditLogError) -> T {
    try await BlockingIO.run(work)
}
