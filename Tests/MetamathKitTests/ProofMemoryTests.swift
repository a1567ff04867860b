import Testing
@testable import MetamathKit

/// A proof whose expressions keep growing must not need memory quadratic in its length: the
/// machine reclaims the arena under the hypotheses it pops.
@Suite struct ProofMemoryTests {
    typealias F = ProofFixtures

    /// `wff ( p -> ( p -> ... p ) )` with `depth` arrows, proved by pushing `p` depth + 1 times
    /// and applying `wi` depth times: the results grow by 4 symbols a step, so without
    /// reclaiming the arena would hold about 2 × depth² symbols.
    static func chain(depth: Int, first: String = "p") -> String {
        let statement = "wff ( \(first) -> " + String(repeating: "( p -> ", count: depth - 1) + "p"
            + String(repeating: " )", count: depth)
        let proof = Array(repeating: "wp", count: depth + 1).joined(separator: " ") + " "
            + Array(repeating: "wi", count: depth).joined(separator: " ")
        return F.theorem(statement, proof)
    }

    @Test func growingProofVerifiesInBoundedMemory() throws {
        let depth = 2_000
        let database = try compile(Self.chain(depth: depth))
        let theorem = try #require(database.theorem(labeled: "th"))
        let verifier = Verifier(database: database)
        #expect(verifier.verify(theorem: theorem.index) == .verified)
        // Unreclaimed: ~8 million symbols. Live at most: the last result (4 × depth + 1) and
        // the p's below it, plus the reclaim threshold of garbage and the doubling of the buffer.
        #expect(verifier.arenaCapacity <= 4 * (ProofMachine.reclaimThreshold + 4 * depth + depth),
                "arena capacity \(verifier.arenaCapacity)")
    }

    @Test func reclaimingKeepsErrorsAndStates() throws {
        // The same chain with a wrong final statement: the error and the proof's final stack,
        // symbol for symbol, still read correctly after the arena was reclaimed many times.
        let depth = 1_500
        let database = try compile(Self.chain(depth: depth, first: "q"))
        let theorem = try #require(database.theorem(labeled: "th"))
        let verifier = Verifier(database: database)
        guard case .failed(let failure) = verifier.verify(theorem: theorem.index) else {
            Issue.record("expected a failure")
            return
        }
        // Every step ran (2 × depth + 1); the final statement is checked after them.
        #expect(failure.step == 2 * depth + 2, "\(failure)")
        let stack = try verifier.stack(theorem: theorem.index, afterStep: failure.step - 1).get()
        let expected = "wff " + String(repeating: "( p -> ", count: depth) + "p" + String(repeating: " )", count: depth)
        #expect(stack == [expected], "\(stack.count) entries, last begins \(stack.last?.prefix(40) ?? "")")
    }
}
