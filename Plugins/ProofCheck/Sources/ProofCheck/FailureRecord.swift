import MetamathKit

/// A failing theorem's error with the repaired proof state, for the report.
struct FailureRecord: Equatable {
    var position: Int
    var failure: ProofFailure
    /// The stack just before the failing step, once a worker (or the master) computed it.
    var stack: Result<[String], ProofFailure>?
}
