/// A task queued by a response, to run after the task that produced it.
///
/// A follow-up inherits its parent's cancellation, and the host offers it first to the worker
/// that produced the response, so a ``TaskKind/taskMatch(_:worker:)`` that accepts only that
/// worker's competence pins it there (Coq's ProofTask fetching states from the worker that
/// built a proof).
public struct FollowUp<Task> {
    /// The task to queue.
    public var task: Task
    /// Lower values run first; equal priorities run in the order they were queued.
    public var priority: Int32

    /// Creates a follow-up.
    @inlinable
    public init(_ task: Task, priority: Int32 = 0) {
        self.task = task
        self.priority = priority
    }
}

extension FollowUp: Equatable where Task: Equatable {}
extension FollowUp: Hashable where Task: Hashable {}
extension FollowUp: Sendable where Task: Sendable {}
