import AuditLog

/// Runs at most one verification per set of options at a time: requests that arrive while one
/// runs wait for it and share its report, so a burst of `/v1/verify` calls reads the log once,
/// not once each. Keeps the progress of each running verification (for
/// `/v1/verify?progress=true`) and the outcome of the latest one to finish
/// (`/v1/verify/latest`).
final class SharedVerification: Sendable {
    typealias Outcome = Result<(report: VerificationReport, seconds: Double), AuditLogError>

    /// One verification running: its task, how far it got, and its outcome once it ended.
    struct Run: Sendable {
        let task: Task<Outcome, Never>
        let progress: Locked<VerificationProgress?>
        let finished: Locked<Outcome?>

        /// The outcome once the verification has finished (nil while it runs).
        var outcome: Outcome? { finished.withLock { $0 } }

        /// Waits for the outcome.
        var value: Outcome { get async { await task.value } }
    }

    /// The latest verification to finish: when, with which options, and its outcome.
    struct Finished: Sendable {
        var time: Timestamp
        var options: VerificationOptions
        var outcome: Outcome
    }

    private let running = Locked<[VerificationOptions: Run]>([:])
    private let finished = Locked<Finished?>(nil)

    /// The latest verification to finish since the server started, nil before the first.
    var latest: Finished? { finished.withLock { $0 } }

    /// Starts a verification of the log in `directory` with `options`, or joins the one
    /// running with the same options.
    func start(directory: String, options: VerificationOptions) -> Run {
        running.withLock { runs in
            if let run = runs[options] { return run }
            let progress = Locked<VerificationProgress?>(nil)
            let ended = Locked<Outcome?>(nil)
            let task = Task<Outcome, Never> {
                defer { _ = self.running.withLock { $0.removeValue(forKey: options) } }
                let started = ContinuousClock.now
                let outcome: Outcome
                do throws(AuditLogError) {
                    let report = try await AuditLog.verify(directory: directory, options: options) { step in
                        progress.withLock { $0 = step }
                    }
                    outcome = .success((report, (ContinuousClock.now - started).seconds))
                } catch {
                    outcome = .failure(error)
                }
                self.finished.withLock { $0 = Finished(time: Timestamp.now, options: options, outcome: outcome) }
                ended.withLock { $0 = outcome }
                return outcome
            }
            let run = Run(task: task, progress: progress, finished: ended)
            runs[options] = run
            return run
        }
    }

    /// Runs (or joins) a verification and waits for its outcome.
    func run(directory: String, options: VerificationOptions) async -> Outcome {
        await start(directory: directory, options: options).value
    }
}
