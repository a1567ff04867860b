/// Why a task, or an idle worker, was lost.
///
/// A struct rather than an enum so that a host with a newer minor ABI version can report a
/// reason this build does not know: it arrives as a value with an unfamiliar ``rawValue``.
public struct LossReason: Hashable, Sendable, CustomStringConvertible {
    /// The ABI's `ph_loss_reason` value.
    public var rawValue: UInt32

    /// Wraps an ABI value.
    @inlinable
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The task was cancelled by the user or the embedding program.
    public static let cancelled = LossReason(rawValue: 0)
    /// The task ran past its time limit; its worker was killed.
    public static let expired = LossReason(rawValue: 1)
    /// The worker died (signal, exit, broken pipe).
    public static let workerDied = LossReason(rawValue: 2)
    /// No worker could be started.
    public static let spawnFailed = LossReason(rawValue: 3)
    /// Only one worker could run this follow-up task and that worker is gone.
    public static let orphaned = LossReason(rawValue: 4)
    /// The worker was killed for memory (its cgroup's limit, or an allocation failed under its
    /// address-space limit). ABI 2.2.
    public static let outOfMemory = LossReason(rawValue: 5)

    /// A short name: `cancelled`, `expired`, `worker died`, `spawn failed`, `orphaned`, `out of memory`.
    @inlinable
    public var description: String {
        switch rawValue {
        case 0: "cancelled"
        case 1: "expired"
        case 2: "worker died"
        case 3: "spawn failed"
        case 4: "orphaned"
        case 5: "out of memory"
        default: "loss reason \(rawValue)"
        }
    }
}
