/// The master side's verdict on a task: done, or failed with a reason.
///
/// (The host's own outcomes add `cancelled`, `expired` and `skipped`, which only the host decides.)
public enum TaskVerdict: Hashable, Sendable {
    /// The task succeeded.
    case done
    /// The task failed; the message says why and appears in the host's report.
    case failed(String)
}
