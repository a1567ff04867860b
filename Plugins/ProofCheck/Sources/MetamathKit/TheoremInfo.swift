/// One `$p` of the database, in database order.
public struct TheoremInfo: Sendable, Hashable {
    /// The theorem's statement index in the image (what ``Verifier/verify(theorem:)`` takes).
    public var index: Int32
    /// The theorem's label.
    public var label: String
    /// The file it was read from (an included file for theorems read through `$[ $]`).
    public var file: String
    /// The 1-based line of its label.
    public var line: Int
    /// A cheap estimate of the cost of verifying it (proof length plus statement length), for
    /// batching; only its relative size means anything.
    public var proofCost: Int

    /// Creates a theorem description.
    public init(index: Int32, label: String, file: String, line: Int, proofCost: Int) {
        self.index = index
        self.label = label
        self.file = file
        self.line = line
        self.proofCost = proofCost
    }
}
