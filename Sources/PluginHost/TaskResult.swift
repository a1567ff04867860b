/// How one task ended, as kept in a ``RunReport`` when results are collected.
public struct TaskResult: Sendable, Equatable {
    /// The task's id in this run (queue order, from 1).
    public var id: UInt64
    /// The task kind's name.
    public var kind: String
    /// The plugin's name for the task, if it gives one.
    public var name: String?
    /// The outcome.
    public var outcome: TaskOutcome
    /// The plugin's message, or the reason for a failure.
    public var message: String?
    /// How many times a request for it was sent to a worker.
    public var attempts: Int
    /// The task that pushed it as a follow-up, if any.
    public var parent: UInt64?
}
