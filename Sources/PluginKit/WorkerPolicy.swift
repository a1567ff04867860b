/// What the host does with a worker after a response, unless the task kind decides otherwise.
///
/// A task kind declares its default in ``TaskKind/defaultPolicy``; the user may override it
/// (`--policy`), and ``OpenContext/policy`` tells the master which one is in effect so that
/// ``TaskKind/useResponse(_:for:worker:)`` can answer `stay` or `end` accordingly.
public enum WorkerPolicy: Hashable, Sendable, CustomStringConvertible {
    /// Reboot after every job (Coq's ProofTask): responses usually end the worker.
    case oneShot
    /// Keep workers alive between jobs (Coq's `par:`): responses usually keep the worker.
    case persistent

    /// The name used on the command line: `one-shot` or `persistent`.
    @inlinable
    public var description: String {
        switch self {
        case .oneShot: "one-shot"
        case .persistent: "persistent"
        }
    }
}
