/// Signed checkpoints on an interval while the log is open for writing
/// (``AuditLogOptions/checkpointSigning``): at most one every ``interval``, and only when the
/// log grew; one more at ``AuditLog/close()`` when it grew since the last. Each is stored in the
/// log directory (`checkpoints/latest` and `checkpoints/history`, docs/FORMAT.md) and is never
/// inconsistent with one signed before.
///
/// The signer key never appears in descriptions, debug output or `dump`: they show the
/// verifier key.
public struct CheckpointSigning: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The signer key as `auditlog keygen` writes it (kept private: see the type's note).
    let signerKey: String
    /// The least time between two checkpoints.
    public var interval: Duration
    /// The checkpoints' origin line; nil: the origin of those signed before, else the key name.
    public var origin: String?
    let signer: NoteSigner

    /// Signing with `signerKey` (Go's `sumdb/note` signer key text).
    ///
    /// - Throws: ``AuditLogError/Code/invalidArgument`` when the key does not parse, or the
    ///   interval is not positive.
    public init(signerKey: String, interval: Duration = .seconds(10), origin: String? = nil) throws(AuditLogError) {
        guard interval > .zero else { throw AuditLogError(.invalidArgument, "the checkpoint interval must be positive, got \(interval)") }
        signer = try NoteSigner(text: signerKey)
        self.signerKey = signerKey
        self.interval = interval
        self.origin = origin
    }

    /// The verifier key auditors check the checkpoints with: `<name>+<key id>+<key>`.
    public var verifierKey: String { signer.verifier.text }

    /// `CheckpointSigning(verifier: …, interval: …, origin: …)`, without the signer key.
    public var description: String {
        "CheckpointSigning(verifier: \(verifierKey), interval: \(interval), origin: \(origin ?? "the key name"))"
    }

    /// The same as ``description``.
    public var debugDescription: String { description }

    /// The verifier key, interval and origin; never the signer key.
    public var customMirror: Mirror {
        Mirror(self, children: ["verifierKey": verifierKey, "interval": interval, "origin": origin as Any], displayStyle: .struct)
    }

    /// Equal when the key, the interval and the origin are.
    public static func == (a: CheckpointSigning, b: CheckpointSigning) -> Bool {
        a.signerKey == b.signerKey && a.interval == b.interval && a.origin == b.origin
    }

    /// Hashes the key, the interval and the origin.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(signerKey)
        hasher.combine(interval)
        hasher.combine(origin)
    }
}

extension AuditLog {
    /// The newest signed checkpoint (a C2SP signed note), nil before the first.
    public func latestCheckpoint() async throws(AuditLogError) -> String? {
        try await BlockingIO.run { () throws(AuditLogError) in try self.latestStoredCheckpoint()?.note.encoded }
    }

    /// Starts the signing loop of ``AuditLogOptions/checkpointSigning`` (a writer only).
    func startSigning() {
        guard options.access == .readWrite, let config = options.checkpointSigning else { return }
        let task = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: config.interval) } catch { return }
                guard let log = self else { return }
                await log.signIfGrown(config)
            }
        }
        signingTask.withLock { $0 = task }
    }

    /// Stops the loop and signs once more when the log grew since the last checkpoint.
    func stopSigning() async {
        guard let config = options.checkpointSigning, options.access == .readWrite else { return }
        let task = signingTask.withLock { t -> Task<Void, Never>? in
            defer { t = nil }
            return t
        }
        guard let task else { return }
        task.cancel()
        await task.value
        await signIfGrown(config)
    }

    private func signIfGrown(_ config: CheckpointSigning) async {
        do throws(AuditLogError) {
            let latest = try await BlockingIO.run { () throws(AuditLogError) in try self.latestStoredCheckpoint()?.checkpoint.size }
            // Only when the log grew (an empty log has nothing to commit to).
            guard treeSize > (latest ?? 0) else { return }
            _ = try await signCheckpoint(with: config.signer, origin: config.origin)
            signingProblem.withLock { $0 = nil }
        } catch {
            signingProblem.withLock { $0 = error }
        }
    }

    /// Why the last scheduled checkpoint could not be signed (nil when it was).
    package var checkpointSigningProblem: AuditLogError? { signingProblem.withLock { $0 } }
}
