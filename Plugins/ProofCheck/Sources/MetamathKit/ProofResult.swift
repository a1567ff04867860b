/// The outcome of verifying one proof.
public enum ProofResult: Sendable, Hashable {
    /// Every step is correct and the proof proves the statement.
    case verified
    /// The proof has `?` steps but is otherwise consistent up to them: an unknown step pushes a
    /// placeholder that matches anything, a step that uses a placeholder yields a placeholder,
    /// and the final statement is not compared (as metamath-exe does).
    case incomplete(unknownSteps: Int)
    /// The proof is wrong; the failure says where and why.
    case failed(ProofFailure)
}
