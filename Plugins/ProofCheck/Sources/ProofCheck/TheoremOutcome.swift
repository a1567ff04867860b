import MetamathKit

/// What the master knows about one theorem at the end of a run.
enum TheoremOutcome: Equatable {
    /// Not yet answered (or cancelled before an answer).
    case pending
    /// Verified, or incomplete (`?` steps) with the rest consistent.
    case checked(ProofResult)
    /// No worker could answer for it: the task was lost (worker died, expired).
    case lost(String)
}

/// A failing theorem's error with the repaired proof state, for the report.
struct FailureRecord: Equatable {
    var position: Int
    var failure: ProofFailure
    /// The stack just before the failing step, once a worker (or the master) computed it.
    var stack: Result<[String], ProofFailure>?
}
