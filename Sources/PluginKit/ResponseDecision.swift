/// What the master side decides after a worker's response.
///
/// Three independent decisions: whether the worker stays alive (and with what competence),
/// which follow-up tasks to queue, and how the task ended.
///
/// ```swift
/// return context.policy == .persistent ? .stay(cachedState) : .end()
/// ```
public struct ResponseDecision<Competence, Task> {
    /// What happens to the worker that answered.
    public enum WorkerFate {
        /// The worker stays alive as `old(competence)`.
        case stay(Competence)
        /// The worker is ended and replaced by a fresh one.
        case end
    }

    /// What happens to the worker that answered.
    public var worker: WorkerFate
    /// Tasks to queue; each is offered first to the worker that answered.
    public var followUps: [FollowUp<Task>]
    /// How the task ended.
    public var outcome: TaskVerdict

    /// Creates a decision.
    @inlinable
    public init(worker: WorkerFate, followUps: [FollowUp<Task>] = [], outcome: TaskVerdict = .done) {
        self.worker = worker
        self.followUps = followUps
        self.outcome = outcome
    }

    /// Keeps the worker alive with `competence`, optionally queueing follow-ups at priority 0.
    @inlinable
    public static func stay(_ competence: Competence, followUps: [Task] = [], outcome: TaskVerdict = .done) -> Self {
        Self(worker: .stay(competence), followUps: followUps.isEmpty ? [] : followUps.map { FollowUp($0) }, outcome: outcome)
    }

    /// Ends the worker, optionally queueing follow-ups at priority 0.
    @inlinable
    public static func end(_ outcome: TaskVerdict = .done, followUps: [Task] = []) -> Self {
        Self(worker: .end, followUps: followUps.isEmpty ? [] : followUps.map { FollowUp($0) }, outcome: outcome)
    }
}

extension ResponseDecision.WorkerFate: Equatable where Competence: Equatable {}
extension ResponseDecision.WorkerFate: Hashable where Competence: Hashable {}
extension ResponseDecision.WorkerFate: Sendable where Competence: Sendable {}
extension ResponseDecision: Equatable where Competence: Equatable, Task: Equatable {}
extension ResponseDecision: Hashable where Competence: Hashable, Task: Hashable {}
extension ResponseDecision: Sendable where Competence: Sendable, Task: Sendable {}
