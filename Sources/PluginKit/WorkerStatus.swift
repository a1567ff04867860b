/// What a worker holds when the master considers giving it a task.
///
/// A worker is ``fresh`` when just born and ``old(_:)`` once a response kept it alive with
/// ``ResponseDecision/stay(_:followUps:outcome:)``; the competence is whatever that response
/// gave, typically a description of the state the worker has cached.
public enum WorkerStatus<Competence> {
    /// Just born: holds nothing.
    case fresh
    /// Kept alive by a `stay` with this competence.
    case old(Competence)

    /// True for a fresh worker.
    @inlinable
    public var isFresh: Bool {
        if case .fresh = self { return true }
        return false
    }

    /// The competence of an old worker, `nil` for a fresh one.
    @inlinable
    public var competence: Competence? {
        switch self {
        case .fresh: nil
        case .old(let competence): competence
        }
    }
}

extension WorkerStatus: Equatable where Competence: Equatable {}
extension WorkerStatus: Hashable where Competence: Hashable {}
extension WorkerStatus: Sendable where Competence: Sendable {}
