/// How a task ended, as decided by the task kind's master side.
public enum TaskOutcome: Hashable, Sendable {
    /// The task succeeded.
    case done
    /// The task failed; the message says why and appears in the host's report.
    case failed(String)
}
