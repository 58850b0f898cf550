import AuditLog

/// Runs at most one verification per set of options at a time: requests that arrive while one
/// runs wait for it and share its report, so a burst of `/v1/verify` calls reads the log once,
/// not once each.
final class SharedVerification: Sendable {
    typealias Outcome = Result<(report: VerificationReport, seconds: Double), AuditLogError>

    private let running = Locked<[VerificationOptions: Task<Outcome, Never>]>([:])

    func run(directory: String, options: VerificationOptions) async -> Outcome {
        let task = running.withLock { tasks in
            if let task = tasks[options] { return task }
            let task = Task<Outcome, Never> {
                defer { _ = self.running.withLock { $0.removeValue(forKey: options) } }
                let started = ContinuousClock.now
                do throws(AuditLogError) {
                    let report = try await AuditLog.verify(directory: directory, options: options)
                    return .success((report, (ContinuousClock.now - started).seconds))
                } catch {
                    return .failure(error)
                }
            }
            tasks[options] = task
            return task
        }
        return await task.value
    }
}
