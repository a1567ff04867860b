/// Where and why a proof is wrong.
///
/// Step numbers: a normal proof's n-th label is step n; a compressed proof's n-th decoded step
/// (a number or a `?`, not counting `Z` marks) is step n. Problems found after the last step
/// (the stack does not hold exactly one entry, the proof proves another statement, the proof is
/// empty) are reported at step *number of steps + 1* with label "". Problems in a compressed
/// proof's parenthesised label list are found before any step runs and are reported at step 0
/// with the offending label.
public struct ProofFailure: Error, Sendable, Hashable {
    /// The 1-based step where the proof failed (see the type's documentation for 0 and n + 1).
    public var step: Int
    /// The label used at that step ("" for none: a reused subproof, or the end of the proof;
    /// "?" for an unknown step).
    public var label: String
    /// What was expected and what was found, e.g.
    /// `hypothesis "min" of ax-mp: expected "|- ph", found "|- ( ph -> ps )"`.
    public var message: String

    /// Creates a failure description.
    public init(step: Int, label: String, message: String) {
        self.step = step
        self.label = label
        self.message = message
    }
}
