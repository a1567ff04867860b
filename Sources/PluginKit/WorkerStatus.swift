/// What a worker holds when the master considers giving it a task, and which worker it is.
///
/// A worker is fresh when just born and old once a response kept it alive with
/// ``ResponseDecision/stay(_:followUps:outcome:)``; the competence is whatever that response
/// gave, typically a description of the state the worker has cached.
public struct WorkerStatus<Competence> {
    /// Fresh or old.
    public enum State {
        /// Just born: holds nothing.
        case fresh
        /// Kept alive by a `stay` with this competence.
        case old(Competence)
    }

    /// Fresh or old (with its competence).
    public var state: State
    /// The worker's name (`kind:slot:uid`, unique in the run) when the call concerns one live
    /// worker: in ``TaskKind/request(for:worker:)`` and ``TaskKind/useResponse(_:for:worker:)``,
    /// and in ``TaskKind/taskMatch(_:worker:)`` when the task is offered to a live worker.
    /// `nil` when the host asks about a worker yet to be born. It is the name
    /// ``TaskKind/feedback(_:from:)`` receives.
    public var name: String?

    /// Creates a status.
    @inlinable
    public init(_ state: State, name: String? = nil) {
        self.state = state
        self.name = name
    }

    /// A fresh worker, unnamed.
    @inlinable
    public static var fresh: Self { Self(.fresh) }

    /// An old worker with `competence`, unnamed.
    @inlinable
    public static func old(_ competence: Competence) -> Self { Self(.old(competence)) }

    /// True for a fresh worker.
    @inlinable
    public var isFresh: Bool {
        if case .fresh = state { return true }
        return false
    }

    /// The competence of an old worker, `nil` for a fresh one.
    @inlinable
    public var competence: Competence? {
        switch state {
        case .fresh: nil
        case .old(let competence): competence
        }
    }
}

extension WorkerStatus.State: Equatable where Competence: Equatable {}
extension WorkerStatus.State: Hashable where Competence: Hashable {}
extension WorkerStatus.State: Sendable where Competence: Sendable {}
extension WorkerStatus: Equatable where Competence: Equatable {}
extension WorkerStatus: Hashable where Competence: Hashable {}
extension WorkerStatus: Sendable where Competence: Sendable {}
