/// How large the expressions a proof builds may grow before verification stops with a failure.
///
/// A short proof can build an expression that doubles at each step: a 1 KB compressed proof
/// would otherwise need terabytes. The defaults are far above what real databases need
/// (measured: the longest expression any proof of iset.mm builds has 336 symbols, and its
/// proofs hold at most 24,751 symbols at once, most of it garbage not yet reclaimed;
/// big-unifier.mm, a unification stress test, needs 7,347 and 99,218).
public struct ProofLimits: Sendable, Hashable {
    /// The most math symbols one expression may have (default 1,048,576: 4 MB).
    public var expressionSymbols: Int
    /// The most math symbols all the expressions a proof holds at once (its stack, saved
    /// subproofs and their parts) may have together (default 16,777,216: 64 MB).
    public var heldSymbols: Int

    /// Limits of `expressionSymbols` per expression and `heldSymbols` in all.
    public init(expressionSymbols: Int, heldSymbols: Int) {
        self.expressionSymbols = expressionSymbols
        self.heldSymbols = heldSymbols
    }

    /// 1,048,576 symbols per expression, 16,777,216 held at once.
    public static let standard = ProofLimits(expressionSymbols: 1 << 20, heldSymbols: 1 << 24)
}
