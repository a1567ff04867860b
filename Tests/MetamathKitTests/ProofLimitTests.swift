import Testing
@testable import MetamathKit

/// A short proof that doubles an expression at each step stops at the expression limit with a
/// failure naming the theorem and the step, instead of taking all the machine's memory; what it
/// reports (message, proof state) stays small.
@Suite struct ProofLimitTests {
    typealias F = ProofFixtures

    /// Compressed number `n` (1-based) in the letters of a compressed proof.
    static func code(_ n: Int) -> String {
        let scalars = Array("ABCDEFGHIJKLMNOPQRST".unicodeScalars), high = Array("UVWXY".unicodeScalars)
        var text = String(scalars[(n - 1) % 20])
        var rest = (n - 1) / 20
        while rest > 0 {
            text = String(high[(rest - 1) % 5]) + text
            rest = (rest - 1) / 5
        }
        return text
    }

    /// `th $p wff p` proved by `wi` applied to the last result twice, `doublings` times: each
    /// step builds `wff ( X -> X )` from `wff X`, so the expression doubles. A few hundred bytes.
    static func doubling(_ doublings: Int) -> String {
        // Mandatory: wp (1); listed: wi (2); saved subproofs from 3 on.
        var codes = "AABZ"
        for k in 1 ... doublings { codes += code(2 + k) + "BZ" }
        return F.theorem("wff p", "( wi ) \(codes)")
    }

    /// The step that first builds an expression longer than `limit`, and its length.
    static func firstStep(over limit: Int) -> (step: Int, length: Int) {
        var length = 6, step = 3  // wff ( p -> p ) at step 3
        while length <= limit {
            length = 2 * length + 2
            step += 2
        }
        return (step, length)
    }

    @Test func anExpressionThatDoublesStopsAtTheLimit() throws {
        let text = Self.doubling(22)
        #expect(text.utf8.count - F.theorem("wff p", "").utf8.count < 200)
        let database = try compile(text)
        let theorem = try #require(database.theorem(labeled: "th"))
        let verifier = Verifier(database: database)
        guard case .failed(let failure) = verifier.verify(theorem: theorem.index) else {
            Issue.record("expected a failure")
            return
        }
        let limit = ProofLimits.standard.expressionSymbols
        let expected = Self.firstStep(over: limit)
        #expect(failure.step == expected.step, "\(failure)")
        #expect(failure.label == "wi")
        #expect(failure.message == "expression at step \(expected.step) of th exceeds the limit of \(limit) symbols (it would have \(expected.length))")
        // The proof state before that step: the largest expression allowed, cut for display.
        let stack = try verifier.stack(theorem: theorem.index, afterStep: failure.step - 1).get()
        #expect(stack.count == 2)
        #expect(stack.allSatisfy { $0.utf8.count < 70_000 }, "\(stack.map(\.utf8.count))")
        #expect(stack.last?.hasSuffix("… (\((expected.length - 2) / 2) symbols)") == true, "\(stack.last?.suffix(40) ?? "")")
    }

    @Test func expressionsHeldTogetherStopAtTheirLimit() throws {
        let database = try compile(Self.doubling(12))
        let theorem = try #require(database.theorem(labeled: "th"))
        let verifier = Verifier(database: database, limits: ProofLimits(expressionSymbols: 1_000, heldSymbols: 800))
        guard case .failed(let failure) = verifier.verify(theorem: theorem.index) else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.message.hasPrefix("the expressions held at step \(failure.step) of th exceed the limit of 800 symbols"), "\(failure)")
    }

    @Test func aLongStackIsShownByItsTop() throws {
        // 150 pushes and nothing to combine them.
        let database = try compile(F.theorem("wff p", Array(repeating: "wp", count: 150).joined(separator: " ")))
        let theorem = try #require(database.theorem(labeled: "th"))
        let verifier = Verifier(database: database)
        let stack = try verifier.stack(theorem: theorem.index, afterStep: 150).get()
        #expect(stack.count == 101)
        #expect(stack.first == "… 50 lower entries not shown")
        #expect(stack.last == "wff p")
    }
}
